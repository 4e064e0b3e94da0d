//! The fingerprint expression of a type's wire shape, shared by every derive.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Fields, Type};

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
