//! `#[nodelink::data]`: a plain data type for events and state, with the derives
//! it needs to go on the wire (`Fingerprint`, serde's `Serialize` and
//! `Deserialize`), serde reached through nodelink so that the user's crate needs no
//! serde dependency.

use proc_macro2::TokenStream;
use quote::quote;
use syn::punctuated::Punctuated;
use syn::{Data, DeriveInput, Path, Token};

use crate::errors::Errors;

/// The derives the attribute adds, by the last segment of their path.
const ADDED: [&str; 3] = ["Fingerprint", "Serialize", "Deserialize"];

/// The attribute's expansion: the item with the derives added, or the item as
/// written and the errors, so that one mistake gives one error rather than one at
/// each use of the type.
pub(crate) fn attribute(args: TokenStream, input: TokenStream) -> TokenStream {
    let parsed = match syn::parse2::<DeriveInput>(input.clone()) {
        Ok(parsed) => parsed,
        Err(error) => {
            let error = syn::Error::new(
                error.span(),
                "`#[nodelink::data]` goes on a struct or an enum",
            )
            .into_compile_error();
            return quote! { #input #error };
        }
    };
    expand(args, &parsed).unwrap_or_else(|error| {
        let error = error.into_compile_error();
        quote! { #parsed #error }
    })
}

fn expand(args: TokenStream, input: &DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.push(syn::Error::new_spanned(
            args,
            "`#[nodelink::data]` takes no arguments; serde's attributes go on the item as `#[serde(...)]`",
        ));
    }
    if let Data::Union(data) = &input.data {
        errors.push(syn::Error::new_spanned(
            data.union_token,
            "`#[nodelink::data]` goes on a struct or an enum, not a union",
        ));
    }
    if let Some(param) = input.generics.params.first() {
        errors.push(syn::Error::new_spanned(
            param,
            format!(
                "`#[nodelink::data]` does not support generic parameters; give the fields of `{}` concrete types, or derive serde's traits and implement `nodelink::Fingerprint` by hand",
                input.ident
            ),
        ));
    }
    for attr in input
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("derive"))
    {
        let Ok(derives) = attr.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated)
        else {
            continue;
        };
        for derive in &derives {
            let Some(last) = derive.segments.last() else {
                continue;
            };
            if let Some(added) = ADDED.iter().find(|added| last.ident == **added) {
                errors.push(syn::Error::new_spanned(
                    derive,
                    format!("`#[nodelink::data]` derives `{added}` itself; remove it from this `#[derive]`"),
                ));
            }
        }
    }
    errors.finish()?;
    // serde's helper attributes (`#[serde(...)]`, the user's included) must come
    // after the derive that declares them.
    Ok(quote! {
        #[derive(
            ::nodelink::Fingerprint,
            ::nodelink::__private::serde::Serialize,
            ::nodelink::__private::serde::Deserialize
        )]
        #[serde(crate = "::nodelink::__private::serde")]
        #input
    })
}
