//! A type's wire shape, shared by every macro: its fingerprint expression, and the
//! parts of a field's type that the derives' checks probe.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Fields, GenericArgument, PathArguments, Type};

/// A `const` expression feeding one field (name, then type fingerprint) into
/// `hasher`, an expression of type `FingerprintHasher`.
fn field(hasher: TokenStream, name: &str, ty: &Type) -> TokenStream {
    let fingerprint = quote_spanned! {ty.span()=>
        <#ty as ::nodelink::__private::Fingerprint>::FINGERPRINT
    };
    quote! { #hasher.str(#name).u64(#fingerprint) }
}

/// How a list of fields is written: `named`, `tuple` or `unit`.
pub(crate) fn kind(fields: &Fields) -> &'static str {
    match fields {
        Fields::Named(_) => "named",
        Fields::Unnamed(_) => "tuple",
        Fields::Unit => "unit",
    }
}

/// Feeds a list of fields: their kind (see [`kind`]), each field, then their count.
pub(crate) fn fields<'a>(
    hasher: TokenStream,
    kind: &str,
    fields: impl IntoIterator<Item = (String, &'a Type)>,
) -> TokenStream {
    let mut hasher = quote! { #hasher.str(#kind) };
    let mut count = 0u64;
    for (name, ty) in fields {
        hasher = field(hasher, &name, ty);
        count += 1;
    }
    quote! { #hasher.u64(#count) }
}

/// The schema's `FieldsKind` for a list of fields; see [`kind`].
pub(crate) fn schema_kind(fields: &Fields) -> TokenStream {
    match fields {
        Fields::Named(_) => quote! { ::nodelink::__private::FieldsKind::Named },
        Fields::Unnamed(_) => quote! { ::nodelink::__private::FieldsKind::Tuple },
        Fields::Unit => quote! { ::nodelink::__private::FieldsKind::Unit },
    }
}

/// A `Vec<schema::Field>` expression describing fields, for generated code with a
/// `types: &mut TypeRegistry` in scope. Each type's description is spanned on the
/// type, like its fingerprint.
pub(crate) fn describe_fields<'a>(
    fields: impl IntoIterator<Item = (String, &'a Type)>,
) -> TokenStream {
    let fields = fields.into_iter().map(|(name, ty)| {
        let of = quote_spanned! {ty.span()=> ::nodelink::__private::Field::of::<#ty> };
        quote! { #of(#name, types) }
    });
    quote! {
        ::core::convert::From::from([#(#fields),*])
    }
}

/// A fresh hasher.
pub(crate) fn hasher() -> TokenStream {
    quote! { ::nodelink::__private::FingerprintHasher::new() }
}

/// The name a field has in fingerprints and error messages: its identifier, or its
/// position for a tuple field.
pub(crate) fn field_name(index: usize, field: &syn::Field) -> String {
    match &field.ident {
        Some(ident) => ident.to_string().trim_start_matches("r#").to_owned(),
        None => index.to_string(),
    }
}

/// The path of the codec call that writes a field of type `ty`, spanned on the type
/// so that a type serde cannot encode is reported at the field. Only the path takes
/// that span: arguments stay at the call site, where the generated locals live.
pub(crate) fn write_field(ty: &Type) -> TokenStream {
    quote_spanned! {ty.span()=> ::nodelink::__private::FieldSink::field::<#ty> }
}

/// The path of the codec call that reads a field of type `ty`; see [`write_field`].
pub(crate) fn read_field(ty: &Type) -> TokenStream {
    quote_spanned! {ty.span()=> ::nodelink::__private::FieldSource::field::<#ty> }
}

/// Where a part sits in its field's type; each kind has its own verdicts.
#[derive(Clone)]
pub(crate) enum Kind<'a> {
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
    pub(crate) fn tokens(&self) -> TokenStream {
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
pub(crate) fn parts<'a>(ty: &'a Type, kind: Kind<'a>, out: &mut Vec<(Kind<'a>, &'a Type)>) {
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
                ("SyncVec" | "SyncDeque", [item, ..]) => parts(item, Kind::SyncItem, out),
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

/// The parts after the first, as the list `(Part<Kind, Type>, (…, ()))` that the
/// first part's probe carries: it alone reports a field whose parts are all fine
/// but which still does not compile.
pub(crate) fn other_parts(found: &[(Kind<'_>, &Type)]) -> TokenStream {
    let check = quote! { ::nodelink::__private::check };
    found
        .iter()
        .skip(1)
        .rev()
        .fold(quote! { () }, |rest, (kind, part)| {
            let kind = kind.tokens();
            quote! { (#check::Part<#kind, #part>, #rest) }
        })
}
