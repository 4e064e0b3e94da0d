//! `#[derive(Fingerprint)]`: the wire shape of a plain data type.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput};

use crate::shape;

/// Each field's name (or position) and type, of the fields that go on the wire.
fn named(
    fields: &syn::Fields,
    on_wire: impl Fn(&[syn::Attribute]) -> bool,
) -> Vec<(String, &syn::Type)> {
    fields
        .iter()
        .enumerate()
        .filter(|(_, f)| on_wire(&f.attrs))
        .map(|(i, f)| (shape::field_name(i, f), &f.ty))
        .collect()
}

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    implement(input, &[], |_| true)
}

/// The `Fingerprint` and `Whole` impls of a plain data type. The `Fingerprint`
/// impl assumes that the fields of type `assumed` can go on the wire (as
/// `for<'a> Field: DataField`, which the compiler does not check where the impl is
/// written), for `#[nodelink::data]`, which checks those fields itself and reports
/// each mistake once, at the field. Fields and variants whose attributes `on_wire`
/// refuses are left out of the fingerprint and the schema.
pub(crate) fn implement(
    input: &DeriveInput,
    assumed: &[&syn::Type],
    on_wire: impl Fn(&[syn::Attribute]) -> bool + Copy,
) -> syn::Result<TokenStream> {
    if let Some(param) = input.generics.params.first() {
        return Err(syn::Error::new_spanned(
            param,
            "`#[derive(Fingerprint)]` does not support generic parameters; implement `nodelink::Fingerprint` by hand, combining the parameters' fingerprints",
        ));
    }
    let hasher = shape::hasher();
    let (body, definition) = match &input.data {
        Data::Struct(data) => {
            let fields = named(&data.fields, on_wire);
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
            let variants_on_wire: Vec<_> = data
                .variants
                .iter()
                .filter(|variant| on_wire(&variant.attrs))
                .collect();
            let count = variants_on_wire.len() as u64;
            let mut hasher = quote! { #hasher.str("enum").u64(#count) };
            let mut variants = Vec::new();
            for variant in variants_on_wire {
                let name = variant.ident.to_string();
                let fields = named(&variant.fields, on_wire);
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
    let bounds = if assumed.is_empty() {
        TokenStream::new()
    } else {
        // Spanned on each field, so that the note on a use of a type with a wrong
        // field ("required for … to implement `Fingerprint`") points at it.
        let bounds = assumed.iter().map(|ty| {
            quote_spanned! {ty.span()=>
                for<'__nodelink> #ty: ::nodelink::__private::check::DataField
            }
        });
        quote! { where #(#bounds),* }
    };
    Ok(quote! {
        impl ::nodelink::__private::Fingerprint for #ident #bounds {
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
