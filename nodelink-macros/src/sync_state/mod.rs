//! `#[derive(SyncState)]`: parse and validate the struct (or the enum of kinds),
//! then generate.

mod ast;
mod check;
mod expand;
mod kinds;

use proc_macro2::TokenStream;
use syn::DeriveInput;

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    if let syn::Data::Enum(data) = &input.data {
        let kinds = kinds::Kinds::from_syn(input, data)?;
        return Ok(kinds::expand(&kinds));
    }
    let state = ast::State::from_syn(input)?;
    Ok(expand::expand(&state))
}
