//! Procedural macros for [nodelink](https://docs.rs/nodelink). Use them through the
//! `nodelink` crate, which re-exports them; the code they generate reaches the
//! runtime only through `::nodelink::__private`.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod data;
mod errors;
mod events;
mod fingerprint;
mod naming;
mod protocol;
mod shape;
mod sync_state;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Derives `nodelink::SyncState`; documented there.
#[proc_macro_derive(SyncState, attributes(sync))]
pub fn derive_sync_state(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    sync_state::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `nodelink::Events` for an enum; documented in `nodelink`.
#[proc_macro_attribute]
pub fn events(args: TokenStream, input: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let input = parse_macro_input!(input as DeriveInput);
    events::expand(args, &input)
        .unwrap_or_else(|error| {
            let error = error.into_compile_error();
            // Keep the user's item so that one mistake gives one error, not a
            // cascade of "cannot find type" errors wherever the enum is used.
            quote::quote! { #input #error }
        })
        .into()
}

/// Implements `nodelink::Protocol` for a type from its named parts; documented in
/// `nodelink`.
#[proc_macro_attribute]
pub fn protocol(args: TokenStream, input: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let input = parse_macro_input!(input as DeriveInput);
    protocol::expand(args, &input)
        .unwrap_or_else(|error| {
            let error = error.into_compile_error();
            quote::quote! { #input #error }
        })
        .into()
}

/// Makes a struct or an enum a plain data type for events and state; documented in
/// `nodelink`.
#[proc_macro_attribute]
pub fn data(args: TokenStream, input: TokenStream) -> TokenStream {
    data::attribute(args.into(), input.into()).into()
}

/// Derives `nodelink::Fingerprint`; documented in `nodelink`.
#[proc_macro_derive(Fingerprint)]
pub fn derive_fingerprint(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    fingerprint::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
