//! `#[derive(Fingerprint)]`: the wire shape of a plain data type.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput};

use crate::shape;

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    if let Some(param) = input.generics.params.first() {
        return Err(syn::Error::new_spanned(
            param,
            "`#[derive(Fingerprint)]` does not support generic parameters; implement `nodelink::Fingerprint` by hand, combining the parameters' fingerprints",
        ));
    }
    let hasher = shape::hasher();
    let body = match &input.data {
        Data::Struct(data) => {
            let fields = data
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| (shape::field_name(i, f), &f.ty));
            shape::fields(
                quote! { #hasher.str("struct") },
                shape::kind(&data.fields),
                fields,
            )
        }
        Data::Enum(data) => {
            let count = data.variants.len() as u64;
            let mut hasher = quote! { #hasher.str("enum").u64(#count) };
            for variant in &data.variants {
                let name = variant.ident.to_string();
                let fields = variant
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (shape::field_name(i, f), &f.ty));
                hasher = shape::fields(
                    quote! { #hasher.str(#name) },
                    shape::kind(&variant.fields),
                    fields,
                );
            }
            hasher
        }
        Data::Union(data) => {
            return Err(syn::Error::new_spanned(
                data.union_token,
                "`#[derive(Fingerprint)]` supports structs and enums, not unions",
            ))
        }
    };
    let ident = &input.ident;
    Ok(quote! {
        impl ::nodelink::__private::Fingerprint for #ident {
            const FINGERPRINT: u64 = #body.finish();
        }
    })
}
