//! The handler traits `#[nodelink::events]` generates for an enum `E`:
//! `OnE` (one `on_<variant>` registration method per variant, for closures) and
//! `EHandler` (one method per variant, all required, for exhaustive handling).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::DeriveInput;

use super::ast::EventSet;
use super::expand::{pattern, struct_pattern};
use super::variants;

pub(super) fn expand(input: &DeriveInput, events: &EventSet<'_>) -> TokenStream {
    let ident = events.ident;
    let vis = &input.vis;
    let on_trait = format_ident!("On{}", ident);
    let handler_trait = format_ident!("{}Handler", ident);
    let route = quote! { ::nodelink::Route<#ident> };
    let ctx = quote! { <Self as #route>::Ctx<'a> };

    let registrations = events.variants.iter().enumerate().map(|(index, event)| {
        let method = format_ident!("on_{}", event.wire_name);
        let pattern = pattern(&quote! { #ident }, event);
        let name = variants::struct_ident(events, event);
        let built = struct_pattern(&quote! { #name }, event);
        let (param, arg, doc) = if variants::has_payload(event) {
            (
                quote! { , #name },
                quote! { , #built },
                format!(
                    "Handles `{}` events: the handler receives the context and the event's fields by name ([`{name}`]).",
                    event.wire_name
                ),
            )
        } else {
            (
                TokenStream::new(),
                TokenStream::new(),
                format!(
                    "Handles `{}` events: the handler receives the context.",
                    event.wire_name
                ),
            )
        };
        quote! {
            #[doc = #doc]
            fn #method<F, O>(&mut self, mut handler: F) -> &mut Self
            where
                F: for<'a> ::core::ops::FnMut(&mut #ctx #param) -> O
                    + ::core::clone::Clone
                    + ::core::marker::Send
                    + 'static,
                O: ::nodelink::IntoHandlerResult,
            {
                <Self as #route>::route(
                    self,
                    #index,
                    ::nodelink::__private::boxed_handler::<Self, #ident, _>(move |ctx, event| match event {
                        #pattern => ::nodelink::IntoHandlerResult::into_handler_result(
                            handler(ctx #arg),
                        ),
                        #[allow(unreachable_patterns)]
                        _ => ::core::result::Result::Ok(()),
                    }),
                );
                self
            }
        }
    });

    let middlewares = events.variants.iter().enumerate().map(|(index, event)| {
        let method = format_ident!("before_{}", event.wire_name);
        let pattern = pattern(&quote! { #ident }, event);
        let binder = if variants::has_payload(event) {
            quote! { for<'a, 'b> }
        } else {
            quote! { for<'a> }
        };
        let (param, arg, doc) = if variants::has_payload(event) {
            let view = variants::mut_ident(events, event);
            let built = struct_pattern(&quote! { #view }, event);
            (
                quote! { , #view<'b> },
                quote! { , #built },
                format!(
                    "Adds a middleware for `{}` events, run before the handler (after earlier middlewares): it receives the event's fields by `&mut` ([`{view}`]) to rewrite them, and can reject the event by returning `false` or `Verdict::Reject`.",
                    event.wire_name
                ),
            )
        } else {
            (
                TokenStream::new(),
                TokenStream::new(),
                format!(
                    "Adds a middleware for `{}` events, run before the handler (after earlier middlewares): it can reject the event by returning `false` or `Verdict::Reject`.",
                    event.wire_name
                ),
            )
        };
        quote! {
            #[doc = #doc]
            fn #method<F, O>(&mut self, mut middleware: F) -> &mut Self
            where
                F: #binder ::core::ops::FnMut(&mut #ctx #param) -> O
                    + ::core::clone::Clone
                    + ::core::marker::Send
                    + 'static,
                O: ::nodelink::IntoVerdict,
            {
                <Self as #route>::route_middleware(
                    self,
                    #index,
                    ::nodelink::__private::boxed_middleware::<Self, #ident, _>(move |ctx, event| match event {
                        #pattern => ::nodelink::IntoVerdict::into_verdict(middleware(ctx #arg)),
                        #[allow(unreachable_patterns)]
                        _ => ::core::result::Result::Ok(::nodelink::Verdict::Pass),
                    }),
                );
                self
            }
        }
    });

    let methods = events.variants.iter().map(|event| {
        let method = format_ident!("on_{}", event.wire_name);
        let name = variants::struct_ident(events, event);
        let param = variants::has_payload(event).then(|| quote! { , event: #name });
        let doc = format!("Handles a `{}` event.", event.wire_name);
        quote! {
            #[doc = #doc]
            fn #method(
                &mut self,
                ctx: &mut <R as #route>::Ctx<'_>
                #param
            ) -> ::nodelink::HandlerResult;
        }
    });

    let dispatch_arms = events.variants.iter().map(|event| {
        let method = format_ident!("on_{}", event.wire_name);
        let pattern = pattern(&quote! { #ident }, event);
        let arg = variants::has_payload(event).then(|| {
            let name = variants::struct_ident(events, event);
            let built = struct_pattern(&quote! { #name }, event);
            quote! { , #built }
        });
        quote! {
            #pattern => <H as #handler_trait<Self>>::#method(&mut handler, ctx #arg),
        }
    });

    let on_doc = format!(
        "Registers typed handlers for [`{ident}`] events, one method per variant. Implemented by everything that routes `{ident}` events: import it to call `on_…` on a server or client."
    );
    let handler_doc = format!(
        "Handles every [`{ident}`] event: one required method per variant, so a forgotten event is a compile error. Register with `handle_all` of [`{on_trait}`]."
    );
    let all_doc = format!("Routes every `{ident}` event to `handler`, replacing earlier handlers.");
    let empty = events
        .variants
        .is_empty()
        .then(|| quote! { #[allow(unused_mut)] });

    quote! {
        #[doc = #on_doc]
        #[allow(dead_code)]
        #vis trait #on_trait: #route + ::core::marker::Sized + 'static {
            #(#registrations)*

            #(#middlewares)*

            #[doc = #all_doc]
            #empty
            fn handle_all<H: #handler_trait<Self> + ::core::clone::Clone>(&mut self, mut handler: H) -> &mut Self {
                <Self as #route>::route_all(
                    self,
                    ::nodelink::__private::boxed_handler::<Self, #ident, _>(move |ctx, event| match event {
                        #(#dispatch_arms)*
                    }),
                );
                self
            }
        }

        impl<R: #route + 'static> #on_trait for R {}

        #[doc = #handler_doc]
        #[allow(dead_code)]
        #vis trait #handler_trait<R: #route + ?::core::marker::Sized>: ::core::marker::Send + 'static {
            #(#methods)*
        }
    }
}
