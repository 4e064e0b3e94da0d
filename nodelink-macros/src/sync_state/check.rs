//! The checks written beside the impls: one probe per part of each synced field's
//! type, and one of the struct itself, so that each mistake is reported once, at
//! the user's field or struct, with its fix. `::nodelink::__private::check` has
//! the other half and says how a probe picks its verdict.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Type;

use super::ast::State;
use crate::shape::{self, parts, Kind};

/// The probes of one field, spanned on its type.
pub(super) fn field_probes(ty: &Type) -> TokenStream {
    let mut found = Vec::new();
    parts(ty, Kind::Direct, &mut found);
    let check = quote! { ::nodelink::__private::check };
    let others = shape::other_parts(&found);
    let probes = found.iter().enumerate().map(|(index, (kind, part))| {
        let kind = kind.tokens();
        let others = if index == 0 {
            others.clone()
        } else {
            quote! { #check::NotFirst }
        };
        quote_spanned! {ty.span()=>
            (&&&&&&&&&&&&&&&&#check::Probe::<#ty, #kind, #part, #others>::NEW).check();
        }
    });
    quote! { #(#probes)* }
}

/// The markers the probes of other states read, the probes of each synced field,
/// and the check of the struct's own traits, spanned on its name.
pub(super) fn checks(state: &State<'_>) -> TokenStream {
    let ident = state.ident;
    let check = quote! { ::nodelink::__private::check };
    let owner_marker = state
        .fields
        .iter()
        .any(|field| field.private())
        .then(|| quote! { impl #check::HasOwnerFields for #ident {} });
    let probes = state.synced().map(|(field, _)| field_probes(field.ty));
    let state_struct = quote_spanned! {ident.span()=> #check::state_struct::<#ident>(); };
    quote! {
        impl #check::DerivedState for #ident {}
        #owner_marker

        #[allow(clippy::all)]
        const _: fn() = || {
            use #check::levels::*;
            #state_struct
            #(#probes)*
        };
    }
}
