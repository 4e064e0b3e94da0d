//! The variant structs `#[nodelink::events]` generates beside an enum `E`:
//! `EVariant` (the variant's fields by name, what handlers receive) and
//! `EVariantMut` (its fields by `&mut`, what middleware rewrites), so handler code
//! binds fields by name and reordering two fields cannot swap their values.
//!
//! They sit beside the enum rather than in a module of their own because an enum
//! declared inside a function body (a doctest, a test) cannot be named from a
//! module: `super::` skips the function's scope.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;
use syn::{DeriveInput, Fields, Ident, Type};

use super::ast::{Event, EventSet};
use super::expand::{pattern, struct_pattern};

/// Derives copied from the enum onto each variant struct: those that hold for a
/// struct of the variant's fields whenever they hold for the enum.
const INHERITED_DERIVES: &[&str] = &[
    "Debug",
    "Clone",
    "Copy",
    "PartialEq",
    "Eq",
    "Hash",
    "PartialOrd",
    "Ord",
];

/// The struct a handler receives for `event`: `ToServerMove` for `ToServer::Move`.
pub(super) fn struct_ident(events: &EventSet<'_>, event: &Event<'_>) -> Ident {
    format_ident!("{}{}", events.ident, event.ident)
}

/// The view of `event`'s fields a middleware receives: `ToServerMoveMut`.
pub(super) fn mut_ident(events: &EventSet<'_>, event: &Event<'_>) -> Ident {
    format_ident!("{}{}Mut", events.ident, event.ident)
}

/// Whether handlers of `event` receive a value besides the context: every
/// variant with fields does; a unit variant's handler takes the context alone.
pub(super) fn has_payload(event: &Event<'_>) -> bool {
    !matches!(event.fields, Fields::Unit)
}

/// Replaces `Self` in a field type, which names the enum there, with the enum's
/// name, which is what it means beside it.
struct SelfIsTheEnum<'a> {
    enum_ident: &'a Ident,
}

impl VisitMut for SelfIsTheEnum<'_> {
    fn visit_type_path_mut(&mut self, ty: &mut syn::TypePath) {
        if ty.qself.is_none() && ty.path.leading_colon.is_none() {
            if let Some(first) = ty.path.segments.first_mut() {
                if first.ident == "Self" {
                    first.ident = self.enum_ident.clone();
                }
            }
        }
        syn::visit_mut::visit_type_path_mut(self, ty);
    }
}

fn field_type(ty: &Type, enum_ident: &Ident) -> Type {
    let mut ty = ty.clone();
    SelfIsTheEnum { enum_ident }.visit_type_mut(&mut ty);
    ty
}

/// The derives of the enum that each variant struct gets too.
fn inherited_derives(input: &DeriveInput) -> Vec<syn::Path> {
    let mut derives = Vec::new();
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let _ = attr.parse_nested_meta(|meta| {
            let last = meta.path.segments.last().map(|s| s.ident.to_string());
            if last.is_some_and(|name| INHERITED_DERIVES.contains(&name.as_str())) {
                derives.push(meta.path.clone());
            }
            Ok(())
        });
    }
    derives
}

pub(super) fn expand(input: &DeriveInput, events: &EventSet<'_>) -> TokenStream {
    let ident = events.ident;
    let vis = &input.vis;
    let derives = inherited_derives(input);
    let derive = (!derives.is_empty()).then(|| quote! { #[derive(#(#derives),*)] });
    // A view holds `&mut` fields: of the derives, only `Debug` still applies.
    let view_derive = derives
        .iter()
        .any(|path| path.segments.last().is_some_and(|s| s.ident == "Debug"))
        .then(|| quote! { #[derive(Debug)] });

    let items = events.variants.iter().map(|event| {
        let name = struct_ident(events, event);
        let view = mut_ident(events, event);
        let variant = event.ident;
        let wire_name = &event.wire_name;
        let doc = format!(
            "The fields of a `{wire_name}` event ([`{ident}::{variant}`]), by name: what its handler (`on_{wire_name}`) receives."
        );
        let view_doc = format!(
            "The fields of a `{wire_name}` event ([`{ident}::{variant}`]) by `&mut`: what its middleware (`before_{wire_name}`) rewrites."
        );
        let to_enum = pattern(&quote! { #ident }, event);
        let from_struct = struct_pattern(&quote! { #name }, event);
        let from_doc = format!("A `{wire_name}` event from its fields.");
        let conversion = quote! {
            impl ::core::convert::From<#name> for #ident {
                #[doc = #from_doc]
                fn from(event: #name) -> Self {
                    let #from_struct = event;
                    #to_enum
                }
            }
        };
        let types: Vec<Type> = event
            .fields()
            .map(|field| field_type(field.ty, ident))
            .collect();
        match event.fields {
            Fields::Named(_) => {
                let fields = event.fields().zip(&types).map(|(field, ty)| {
                    let binding = &field.binding;
                    let attrs = doc_attrs(field.attrs);
                    quote! { #(#attrs)* pub #binding: #ty }
                });
                let views = event.fields().zip(&types).map(|(field, ty)| {
                    let binding = &field.binding;
                    let attrs = doc_attrs(field.attrs);
                    quote! { #(#attrs)* pub #binding: &'a mut #ty }
                });
                quote! {
                    #[doc = #doc]
                    #derive
                    #vis struct #name { #(#fields),* }

                    #[doc = #view_doc]
                    #view_derive
                    #vis struct #view<'a> { #(#views),* }

                    #conversion
                }
            }
            Fields::Unnamed(_) => {
                let views = types.iter().map(|ty| quote! { pub &'a mut #ty });
                quote! {
                    #[doc = #doc]
                    #derive
                    #vis struct #name(#(pub #types),*);

                    #[doc = #view_doc]
                    #view_derive
                    #vis struct #view<'a>(#(#views),*);

                    #conversion
                }
            }
            Fields::Unit => quote! {
                #[doc = #doc]
                #derive
                #vis struct #name;

                #conversion
            },
        }
    });

    quote! {
        #(#items)*
    }
}

/// The field's doc comments, which its struct field keeps.
fn doc_attrs(attrs: &[syn::Attribute]) -> impl Iterator<Item = &syn::Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("doc"))
}
