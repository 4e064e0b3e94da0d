//! `#[nodelink::events]`: parse and validate the enum, then generate.

mod ast;
mod expand;
mod handlers;
mod variants;

use proc_macro2::TokenStream;
use syn::DeriveInput;

pub(crate) fn expand(args: TokenStream, input: &DeriveInput) -> syn::Result<TokenStream> {
    if !args.is_empty() {
        return Err(syn::Error::new_spanned(
            args,
            "`#[nodelink::events]` takes no arguments",
        ));
    }
    let events = ast::EventSet::from_syn(input)?;
    Ok(expand::expand(input, &events))
}
