//! The code `#[nodelink::events]` generates for a validated enum.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, Fields};

use super::ast::{Event, EventSet};
use crate::shape::{self, read_field, write_field};

pub(super) fn expand(input: &DeriveInput, events: &EventSet<'_>) -> TokenStream {
    let events_impl = events_impl(events);
    let handlers = super::handlers::expand(input, events);
    let variants = super::variants::expand(input, events);
    let fingerprint = fingerprint_impl(events);
    quote! {
        #input
        #variants
        #handlers
        const _: () = {
            #events_impl
            #fingerprint
        };
    }
}

/// A pattern that matches the variant of the enum `owner` and binds its fields.
pub(super) fn pattern(owner: &TokenStream, event: &Event<'_>) -> TokenStream {
    let ident = event.ident;
    let bindings = event.fields().map(|field| field.binding);
    match event.fields {
        Fields::Named(_) => quote! { #owner::#ident { #(#bindings),* } },
        Fields::Unnamed(_) => quote! { #owner::#ident(#(#bindings),*) },
        Fields::Unit => quote! { #owner::#ident },
    }
}

/// A pattern that matches the variant of `Self` and binds its fields by reference.
fn ref_pattern(event: &Event<'_>) -> TokenStream {
    let ident = event.ident;
    let bindings = event.fields().map(|field| field.binding);
    match event.fields {
        Fields::Named(_) => quote! { Self::#ident { #(ref #bindings),* } },
        Fields::Unnamed(_) => quote! { Self::#ident(#(ref #bindings),*) },
        Fields::Unit => quote! { Self::#ident },
    }
}

/// A pattern that matches the struct or struct-like `path` with `event`'s shape
/// and binds its fields as [`pattern`] does.
pub(super) fn struct_pattern(path: &TokenStream, event: &Event<'_>) -> TokenStream {
    let bindings = event.fields().map(|field| field.binding);
    match event.fields {
        Fields::Named(_) => quote! { #path { #(#bindings),* } },
        Fields::Unnamed(_) => quote! { #path(#(#bindings),*) },
        Fields::Unit => quote! { #path },
    }
}

/// A pattern that matches the variant without binding anything.
fn bare_pattern(event: &Event<'_>) -> TokenStream {
    let ident = event.ident;
    match event.fields {
        Fields::Named(_) => quote! { Self::#ident { .. } },
        Fields::Unnamed(_) => quote! { Self::#ident(..) },
        Fields::Unit => quote! { Self::#ident },
    }
}

/// `where Field: EventField, …` for every field of every variant; see the
/// SyncState derive's `field_bounds`.
fn field_bounds(events: &EventSet<'_>) -> TokenStream {
    let bounds = events.variants.iter().flat_map(|event| {
        event.fields().map(|field| {
            let ty = field.ty;
            quote_spanned! {ty.span()=> #ty: ::nodelink::__private::EventField }
        })
    });
    quote! { where #(#bounds),* }
}

fn events_impl(events: &EventSet<'_>) -> TokenStream {
    let ident = events.ident;
    let enum_name = ident.to_string();
    let described = events.variants.iter().map(|event| {
        let name = &event.wire_name;
        let kind = shape::schema_kind(event.fields);
        let fields = shape::describe_fields(event.fields().map(|field| (field.name, field.ty)));
        quote! { ::nodelink::__private::Variant::new(#name, #kind, #fields) }
    });
    let names = events.variants.iter().map(|event| &event.wire_name);
    let field_names = events.variants.iter().map(|event| {
        let names = event.fields().map(|field| field.name);
        quote! { &[#(#names),*] }
    });

    let name_arms = events.variants.iter().map(|event| {
        let pattern = bare_pattern(event);
        let name = &event.wire_name;
        quote! { #pattern => #name, }
    });
    let index_arms = events.variants.iter().enumerate().map(|(index, event)| {
        let pattern = bare_pattern(event);
        quote! { #pattern => #index, }
    });
    let count_arms = events.variants.iter().map(|event| {
        let pattern = bare_pattern(event);
        let count = event.fields.len();
        quote! { #pattern => #count, }
    });
    let encode_arms = events.variants.iter().map(|event| {
        let pattern = ref_pattern(event);
        let writes = event.fields().map(|field| {
            let binding = &field.binding;
            let name = &field.name;
            let write = write_field(field.ty);
            quote! { #write(out, #name, #binding)?; }
        });
        quote! { #pattern => { #(#writes)* } }
    });
    let decode_arms = events.variants.iter().map(|event| {
        let variant = event.ident;
        let wire_name = &event.wire_name;
        let reads = event.fields().map(|field| {
            let name = &field.name;
            let read = read_field(field.ty);
            let read = quote! { #read(input, owner, #name)? };
            (field.binding, read)
        });
        let construct = match event.fields {
            Fields::Named(_) => {
                let fields = reads.map(|(binding, read)| quote! { #binding: #read });
                quote! { Self::#variant { #(#fields),* } }
            }
            Fields::Unnamed(_) => {
                let fields = reads.map(|(_, read)| read);
                quote! { Self::#variant(#(#fields),*) }
            }
            Fields::Unit => quote! { Self::#variant },
        };
        quote! {
            #wire_name => {
                let owner = ::nodelink::__private::FieldOwner::Event(#wire_name);
                ::core::result::Result::Ok(#construct)
            }
        }
    });

    let bounds = field_bounds(events);
    quote! {
        #[automatically_derived]
        impl ::nodelink::__private::Events for #ident #bounds {
            const NAMES: &'static [&'static str] = &[#(#names),*];
            const FIELDS: &'static [&'static [&'static str]] = &[#(#field_names),*];

            fn name(&self) -> &'static str {
                match *self { #(#name_arms)* }
            }

            fn index(&self) -> usize {
                match *self { #(#index_arms)* }
            }

            fn field_count(&self) -> usize {
                match *self { #(#count_arms)* }
            }

            #[allow(unused_variables)]
            fn schema(
                types: &mut ::nodelink::__private::TypeRegistry,
            ) -> ::nodelink::__private::EventsSchema {
                ::nodelink::__private::EventsSchema::new(
                    #enum_name,
                    ::core::convert::From::from([#(#described),*]),
                )
            }

            #[allow(unused_variables, unreachable_code)]
            fn encode_fields<W: ::nodelink::__private::FieldSink>(
                &self,
                out: &mut W,
            ) -> ::core::result::Result<(), ::nodelink::__private::EncodeError> {
                // `*self` also matches an enum with no variants.
                match *self { #(#encode_arms)* }
                ::core::result::Result::Ok(())
            }

            #[allow(unused_variables)]
            fn decode_fields<R: ::nodelink::__private::FieldSource>(
                name: &str,
                input: &mut R,
            ) -> ::core::result::Result<Self, ::nodelink::__private::DecodeError> {
                match name {
                    #(#decode_arms)*
                    _ => ::core::result::Result::Err(::nodelink::__private::DecodeError::UnknownEvent {
                        name: ::core::convert::From::from(name),
                    }),
                }
            }
        }
    }
}

fn fingerprint_impl(events: &EventSet<'_>) -> TokenStream {
    let ident = events.ident;
    let count = events.variants.len() as u64;
    let hasher = shape::hasher();
    let mut body = quote! { #hasher.str("events").u64(#count) };
    for event in &events.variants {
        let name = &event.wire_name;
        let fields: Vec<_> = event.fields().collect();
        body = shape::fields(
            quote! { #body.str(#name) },
            shape::kind(event.fields),
            fields.iter().map(|field| (field.name.clone(), field.ty)),
        );
    }
    let bounds = field_bounds(events);
    quote! {
        #[automatically_derived]
        impl ::nodelink::__private::Fingerprint for #ident #bounds {
            const FINGERPRINT: u64 = #body.finish();
        }
    }
}
