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
];

fn known_keys() -> String {
    let keys: Vec<String> = PARTS.iter().map(|p| format!("`{}`", p.key)).collect();
    keys.join(", ")
}

pub(crate) fn expand(args: TokenStream, input: &DeriveInput) -> syn::Result<TokenStream> {
    let mut named: Vec<(usize, Ident, Type)> = Vec::new();
    let mut errors = Errors::default();
    let parser = syn::meta::parser(|meta: ParseNestedMeta<'_>| {
        let Some(key) = meta.path.get_ident().cloned() else {
            return Err(meta.error(format!(
                "expected one of {} followed by `= Type`",
                known_keys()
            )));
        };
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
    Ok(quote! {
        #input

        #[automatically_derived]
        impl ::nodelink::Protocol for #ident {
            #(#types)*
        }
    })
}
