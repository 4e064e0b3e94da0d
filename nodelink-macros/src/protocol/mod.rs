//! `#[nodelink::protocol(…)]`: names a game's types by key and implements
//! `nodelink::Protocol` with every part it does not name left empty (`()`), so a
//! part added to protocols later has a default and breaks no game.

use proc_macro2::TokenStream;
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::{DeriveInput, Ident, Type};

use crate::errors::Errors;

/// A part of a protocol: its key in the attribute, the associated type it sets,
/// and whether a protocol must name it.
struct Part {
    key: &'static str,
    associated: &'static str,
    required: bool,
}

const PARTS: &[Part] = &[
    Part {
        key: "state",
        associated: "State",
        required: true,
    },
    Part {
        key: "to_server",
        associated: "ToServer",
        required: true,
    },
    Part {
        key: "to_client",
        associated: "ToClient",
        required: true,
    },
    Part {
        key: "server_state",
        associated: "ServerState",
        required: false,
    },
    Part {
        key: "entity",
        associated: "Entity",
        required: false,
    },
    Part {
        key: "options",
        associated: "MatchOptions",
        required: false,
    },
    Part {
        key: "metadata",
        associated: "MatchMetadata",
        required: false,
    },
];

/// The key that names the protocol's kind of match, a string.
const KIND_KEY: &str = "kind";

fn known_keys() -> String {
    let keys: Vec<String> = PARTS
        .iter()
        .map(|p| p.key)
        .chain([KIND_KEY])
        .map(|key| format!("`{key}`"))
        .collect();
    keys.join(", ")
}

pub(crate) fn expand(args: TokenStream, input: &DeriveInput) -> syn::Result<TokenStream> {
    let mut named: Vec<(usize, Ident, Type)> = Vec::new();
    let mut kind: Option<syn::LitStr> = None;
    let mut errors = Errors::default();
    let parser = syn::meta::parser(|meta: ParseNestedMeta<'_>| {
        let Some(key) = meta.path.get_ident().cloned() else {
            return Err(meta.error(format!(
                "expected one of {} followed by `= Type`",
                known_keys()
            )));
        };
        if key == KIND_KEY {
            let name: syn::LitStr = meta.value()?.parse()?;
            if kind.is_some() {
                errors.push(syn::Error::new_spanned(
                    &key,
                    "`kind` is named twice; keep one",
                ));
            } else if !valid_kind(&name.value()) {
                errors.push(syn::Error::new_spanned(
                    &name,
                    "a kind is 1 to 64 lowercase letters, digits, `_` or `-`, as clients name it in a request",
                ));
            }
            kind = Some(name);
            return Ok(());
        }
        let Some(index) = PARTS.iter().position(|p| key == p.key) else {
            // Read the value anyway, so one unknown key gives one error.
            if meta.input.peek(syn::Token![=]) {
                let _: Type = meta.value()?.parse()?;
            }
            errors.push(syn::Error::new_spanned(
                &key,
                format!(
                    "`{key}` is not a part of a protocol; the parts are {}",
                    known_keys()
                ),
            ));
            return Ok(());
        };
        let ty: Type = meta.value()?.parse()?;
        if named.iter().any(|(i, _, _)| *i == index) {
            errors.push(syn::Error::new_spanned(
                &key,
                format!("`{key}` is named twice; keep one"),
            ));
            return Ok(());
        }
        named.push((index, key, ty));
        Ok(())
    });
    syn::parse::Parser::parse2(parser, args.clone())?;

    let ident = &input.ident;
    if let Some(param) = input.generics.params.first() {
        errors.push(syn::Error::new_spanned(
            param,
            format!("`#[nodelink::protocol]` does not support generic parameters; `{ident}` names one game's types"),
        ));
    }
    for (index, part) in PARTS.iter().enumerate() {
        if part.required && !named.iter().any(|(i, _, _)| *i == index) {
            let key = part.key;
            let span_on: &dyn quote::ToTokens = if args.is_empty() { ident } else { &args };
            errors.push(syn::Error::new_spanned(
                span_on,
                format!("`#[nodelink::protocol]` needs `{key} = …`: the protocol's `{}` type (for example `#[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]`)", part.associated),
            ));
        }
    }
    errors.finish()?;

    let types = PARTS.iter().enumerate().map(|(index, part)| {
        let associated = Ident::new(part.associated, proc_macro2::Span::call_site());
        match named.iter().find(|(i, _, _)| *i == index) {
            Some((_, _, ty)) => quote! { type #associated = #ty; },
            None => quote! { type #associated = (); },
        }
    });
    let kind = match kind {
        Some(kind) => kind.value(),
        None => crate::naming::snake_case(&ident.to_string()),
    };
    Ok(quote! {
        #input

        #[automatically_derived]
        impl ::nodelink::Protocol for #ident {
            #(#types)*
            const KIND: &'static str = #kind;
        }
    })
}

/// Whether `name` can name a kind: what a request's query can carry unescaped.
fn valid_kind(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}
