//! `#[derive(SyncState)]`: parse and validate the struct, then generate.

mod ast;
mod check;
mod expand;

use proc_macro2::TokenStream;
use syn::DeriveInput;

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let state = ast::State::from_syn(input)?;
    Ok(expand::expand(&state))
}
