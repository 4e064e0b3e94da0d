//! `#[derive(Fingerprint)]`: the wire shape of a plain data type.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput};

use crate::shape;

/// Each field's name (or position) and type.
fn named(fields: &syn::Fields) -> Vec<(String, &syn::Type)> {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| (shape::field_name(i, f), &f.ty))
        .collect()
}

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    if let Some(param) = input.generics.params.first() {
        return Err(syn::Error::new_spanned(
            param,
            "`#[derive(Fingerprint)]` does not support generic parameters; implement `nodelink::Fingerprint` by hand, combining the parameters' fingerprints",
        ));
    }
    let hasher = shape::hasher();
    let (body, definition) = match &input.data {
        Data::Struct(data) => {
            let fields = named(&data.fields);
            let kind = shape::schema_kind(&data.fields);
            let described = shape::describe_fields(fields.iter().map(|(n, t)| (n.clone(), *t)));
            let body = shape::fields(
                quote! { #hasher.str("struct") },
                shape::kind(&data.fields),
                fields,
            );
            let definition = quote! {
                ::nodelink::__private::TypeDef::Struct(
                    ::nodelink::__private::Fields::new(#kind, #described),
                )
            };
            (body, definition)
        }
        Data::Enum(data) => {
            let count = data.variants.len() as u64;
            let mut hasher = quote! { #hasher.str("enum").u64(#count) };
            let mut variants = Vec::new();
            for variant in &data.variants {
                let name = variant.ident.to_string();
                let fields = named(&variant.fields);
                let kind = shape::schema_kind(&variant.fields);
                let described = shape::describe_fields(fields.iter().map(|(n, t)| (n.clone(), *t)));
                variants.push(quote! {
                    ::nodelink::__private::Variant::new(#name, #kind, #described)
                });
                hasher = shape::fields(
                    quote! { #hasher.str(#name) },
                    shape::kind(&variant.fields),
                    fields,
                );
            }
            let definition = quote! {
                ::nodelink::__private::TypeDef::Enum(
                    ::core::convert::From::from([#(#variants),*]),
                )
            };
            (hasher, definition)
        }
        Data::Union(data) => {
            return Err(syn::Error::new_spanned(
                data.union_token,
                "`#[derive(Fingerprint)]` supports structs and enums, not unions",
            ))
        }
    };
    let ident = &input.ident;
    let name = ident.to_string();
    Ok(quote! {
        impl ::nodelink::__private::Fingerprint for #ident {
            const FINGERPRINT: u64 = #body.finish();

            fn describe(
                types: &mut ::nodelink::__private::TypeRegistry,
            ) -> ::nodelink::__private::Type {
                types.define(
                    #name,
                    <Self as ::nodelink::__private::Fingerprint>::FINGERPRINT,
                    |types| #definition,
                )
            }
        }

        // A plain data type: a synced field of this type is sent whole.
        impl ::nodelink::__private::Whole for #ident {}
    })
}
