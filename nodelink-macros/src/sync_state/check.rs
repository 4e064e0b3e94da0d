//! The checks written beside the impls: one probe per part of each synced field's
//! type, and one of the struct itself, so that each mistake is reported once, at
//! the user's field or struct, with its fix. `::nodelink::__private::check` has
//! the other half and says how a probe picks its verdict.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericArgument, PathArguments, Type};

use super::ast::State;

/// Where a part sits in its field's type; each kind has its own verdicts.
#[derive(Clone)]
enum Kind<'a> {
    Direct,
    List,
    MapValue(&'a Type),
    OptionOf,
    WholeOther,
    Key,
    SyncItem,
    SyncKey,
}

impl Kind<'_> {
    fn tokens(&self) -> TokenStream {
        let check = quote! { ::nodelink::__private::check };
        match self {
            Kind::Direct => quote! { #check::Direct },
            Kind::List => quote! { #check::List },
            Kind::MapValue(key) => quote! { #check::MapValue<#key> },
            Kind::OptionOf => quote! { #check::OptionOf },
            Kind::WholeOther => quote! { #check::WholeOther },
            Kind::Key => quote! { #check::Key },
            Kind::SyncItem => quote! { #check::SyncItem },
            Kind::SyncKey => quote! { #check::SyncKey },
        }
    }
}

/// The type arguments of a path's last segment: `[K, V]` for `HashMap<K, V>`.
fn type_arguments(path: &syn::Path) -> Vec<&Type> {
    let Some(last) = path.segments.last() else {
        return Vec::new();
    };
    let PathArguments::AngleBracketed(arguments) = &last.arguments else {
        return Vec::new();
    };
    arguments
        .args
        .iter()
        .filter_map(|argument| match argument {
            GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
        .collect()
}

/// Whether `ty` may be unsized (`str`, a slice, a trait object): a `Box` of it is
/// checked whole.
fn maybe_unsized(ty: &Type) -> bool {
    match ty {
        Type::Slice(_) | Type::TraitObject(_) => true,
        Type::Path(path) => path.qself.is_none() && path.path.is_ident("str"),
        _ => false,
    }
}

/// The parts of `ty` to probe: the values inside the standard containers and the
/// sync collections, recognised by name, each with the kind of its place; any
/// other type is one part.
fn parts<'a>(ty: &'a Type, kind: Kind<'a>, out: &mut Vec<(Kind<'a>, &'a Type)>) {
    match ty {
        Type::Paren(inner) => parts(&inner.elem, kind, out),
        Type::Group(inner) => parts(&inner.elem, kind, out),
        Type::Array(array) => parts(&array.elem, Kind::List, out),
        Type::Path(path) if path.qself.is_none() => {
            let name = path
                .path
                .segments
                .last()
                .map(|segment| segment.ident.to_string())
                .unwrap_or_default();
            match (name.as_str(), type_arguments(&path.path).as_slice()) {
                ("Vec" | "VecDeque", [item, ..]) => parts(item, Kind::List, out),
                ("Option", [value]) => parts(value, Kind::OptionOf, out),
                ("Box", [value]) if !maybe_unsized(value) => parts(value, Kind::WholeOther, out),
                ("HashSet" | "BTreeSet", [item, ..]) => parts(item, Kind::Key, out),
                ("HashMap" | "BTreeMap", [key, value, ..]) => {
                    parts(value, Kind::MapValue(key), out);
                    parts(key, Kind::Key, out);
                }
                ("SyncVec", [item, ..]) => parts(item, Kind::SyncItem, out),
                ("SyncMap", [key, value, ..]) => {
                    parts(value, Kind::SyncItem, out);
                    parts(key, Kind::SyncKey, out);
                }
                _ => out.push((kind, ty)),
            }
        }
        _ => out.push((kind, ty)),
    }
}

/// The probes of one field, spanned on its type.
fn field_probes(ty: &Type) -> TokenStream {
    let mut found = Vec::new();
    parts(ty, Kind::Direct, &mut found);
    let check = quote! { ::nodelink::__private::check };
    // The first part's probe also reports a field whose parts are all fine: it
    // carries the others, as `(Part, (Part, ()))`.
    let others = found
        .iter()
        .skip(1)
        .rev()
        .fold(quote! { () }, |rest, (kind, part)| {
            let kind = kind.tokens();
            quote! { (#check::Part<#kind, #part>, #rest) }
        });
    let probes = found.iter().enumerate().map(|(index, (kind, part))| {
        let kind = kind.tokens();
        let others = if index == 0 {
            others.clone()
        } else {
            quote! { #check::NotFirst }
        };
        quote_spanned! {ty.span()=>
            (&&&&&&&&&&&&&&&#check::Probe::<#ty, #kind, #part, #others>::NEW).check();
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
        .any(|field| field.owner)
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
