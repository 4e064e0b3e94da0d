//! `#[nodelink::data]`: a plain data type for events and state, with the derives
//! it needs to go on the wire (`Fingerprint`, serde's `Serialize` and
//! `Deserialize`), serde reached through nodelink so that the user's crate needs no
//! serde dependency.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Path, Token, Type};

use crate::errors::Errors;
use crate::shape::{self, Kind};

/// The derives the attribute adds, by the last segment of their path.
const ADDED: [&str; 3] = ["Fingerprint", "Serialize", "Deserialize"];

/// The attribute's expansion: the item with the derives added, or the item as
/// written and the errors, so that one mistake gives one error rather than one at
/// each use of the type.
pub(crate) fn attribute(args: TokenStream, input: TokenStream) -> TokenStream {
    let parsed = match syn::parse2::<DeriveInput>(input.clone()) {
        Ok(parsed) => parsed,
        Err(error) => {
            let error = syn::Error::new(
                error.span(),
                "`#[nodelink::data]` goes on a struct or an enum",
            )
            .into_compile_error();
            return quote! { #input #error };
        }
    };
    expand(args, &parsed).unwrap_or_else(|error| {
        let error = error.into_compile_error();
        quote! { #parsed #error }
    })
}

fn expand(args: TokenStream, input: &DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.push(syn::Error::new_spanned(
            args,
            "`#[nodelink::data]` takes no arguments; serde's attributes go on the item as `#[serde(...)]`",
        ));
    }
    if let Data::Union(data) = &input.data {
        errors.push(syn::Error::new_spanned(
            data.union_token,
            "`#[nodelink::data]` goes on a struct or an enum, not a union",
        ));
    }
    if let Some(param) = input.generics.params.first() {
        errors.push(syn::Error::new_spanned(
            param,
            format!(
                "`#[nodelink::data]` does not support generic parameters; give the fields of `{}` concrete types, or derive serde's traits and implement `nodelink::Fingerprint` by hand",
                input.ident
            ),
        ));
    }
    for attr in input
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("derive"))
    {
        let Ok(derives) = attr.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated)
        else {
            continue;
        };
        for derive in &derives {
            let Some(last) = derive.segments.last() else {
                continue;
            };
            if let Some(added) = ADDED.iter().find(|added| last.ident == **added) {
                errors.push(syn::Error::new_spanned(
                    derive,
                    format!("`#[nodelink::data]` derives `{added}` itself; remove it from this `#[derive]`"),
                ));
            }
        }
    }
    errors.finish()?;
    let checked = checked_fields(input);
    let fingerprint = crate::fingerprint::implement(input, &checked, on_wire)?;
    let bounds = serde_bounds(&checked);
    let ident = &input.ident;
    let check = quote! { ::nodelink::__private::check };
    let probes = checked.iter().map(|ty| field_probes(ty));
    // serde's helper attributes (`#[serde(...)]`, the user's included) must come
    // after the derive that declares them.
    Ok(quote! {
        #[derive(
            ::nodelink::__private::serde::Serialize,
            ::nodelink::__private::serde::Deserialize
        )]
        #[serde(crate = "::nodelink::__private::serde" #bounds)]
        #input

        const _: () = {
            #fingerprint

            impl #check::DerivedData for #ident {}

            #[allow(clippy::all)]
            const _: fn() = || {
                use #check::levels::*;
                #(#probes)*
            };
        };
    })
}

/// The types of the fields whose mistakes the attribute reports itself, once at
/// each field: every field, unless serde's attributes change what serde asks of
/// it (a skipped field needs no `Serialize`, a field `with` a module needs none of
/// its own), and none when they change what serde asks of the whole type (`from`,
/// `into`, `remote`, its own `bound`). Those are left to serde's and the compiler's
/// own errors.
fn checked_fields(input: &DeriveInput) -> Vec<&Type> {
    if input.attrs.iter().any(|attr| {
        serde_options(attr).iter().any(|option| {
            ["from", "try_from", "into", "remote", "bound"].contains(&option.as_str())
        })
    }) {
        return Vec::new();
    }
    let plain = |attrs: &[syn::Attribute]| !attrs.iter().any(|attr| attr.path().is_ident("serde"));
    match &input.data {
        Data::Struct(data) => data
            .fields
            .iter()
            .filter(|field| plain(&field.attrs))
            .map(|field| &field.ty)
            .collect(),
        Data::Enum(data) => data
            .variants
            .iter()
            .filter(|variant| plain(&variant.attrs))
            .flat_map(|variant| variant.fields.iter())
            .filter(|field| plain(&field.attrs))
            .map(|field| &field.ty)
            .collect(),
        Data::Union(_) => Vec::new(),
    }
}

/// Whether a field or a variant with these attributes goes on the wire: not
/// `#[serde(skip)]`. What is skipped is no part of the protocol, so it is left out
/// of the fingerprint and the schema, and its types need neither serde nor a
/// `Fingerprint`.
fn on_wire(attrs: &[syn::Attribute]) -> bool {
    !attrs
        .iter()
        .any(|attr| serde_options(attr).iter().any(|option| option == "skip"))
}

/// The names of the options in a `#[serde(...)]` attribute (`rename_all`, `from`).
fn serde_options(attr: &syn::Attribute) -> Vec<String> {
    let mut options = Vec::new();
    if attr.path().is_ident("serde") {
        let _ = attr.parse_nested_meta(|meta| {
            if let Some(ident) = meta.path.get_ident() {
                options.push(ident.to_string());
            }
            // Skips the option's value, if any: `= "…"` or `(…)`.
            if meta.input.peek(Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _: TokenStream = meta.input.parse()?;
            }
            Ok(())
        });
    }
    options
}

/// `, bound = "…"`: serde's impls assume that each checked field can go on the
/// wire (`for<'a> Field: DataField`, which the compiler does not check where the
/// impl is written) rather than failing there, so that a field of a type that is
/// not plain data costs its probe's one error.
fn serde_bounds(checked: &[&Type]) -> TokenStream {
    if checked.is_empty() {
        return TokenStream::new();
    }
    let bound = checked
        .iter()
        .map(|ty| {
            format!(
                "for<'__nodelink> {}: ::nodelink::__private::check::DataField",
                quote!(#ty)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    quote! { , bound = #bound }
}

/// The probes of one field, spanned on its type: each part of it must be plain
/// data; see `::nodelink::__private::check`.
fn field_probes(ty: &Type) -> TokenStream {
    let mut found = Vec::new();
    shape::parts(ty, Kind::Direct, &mut found);
    let check = quote! { ::nodelink::__private::check };
    let others = shape::other_parts(&found);
    let probes = found.iter().enumerate().map(|(index, (_, part))| {
        let others = if index == 0 {
            others.clone()
        } else {
            quote! { #check::NotFirst }
        };
        quote_spanned! {ty.span()=>
            (&&&&&&&&#check::DataProbe::<#ty, #part, #others>::NEW).check();
        }
    });
    quote! { #(#probes)* }
}
