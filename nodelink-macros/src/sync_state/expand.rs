//! The code `#[derive(SyncState)]` generates for a validated struct.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::ast::State;
use crate::shape::{self, read_field, write_field};

pub(super) fn expand(state: &State<'_>) -> TokenStream {
    let delta = delta_type(state);
    let view = mut_type(state);
    let sync_impl = sync_state_impl(state);
    let fingerprint = fingerprint_impl(state);
    quote! {
        #delta
        #view
        const _: () = {
            #sync_impl
            #fingerprint
        };
    }
}

/// `where Field: SyncField, …` for every synced field, each bound spanned on its
/// field's type: a type that cannot be synced is reported once per impl, at the
/// field, and the impl bodies type-check under the bound instead of failing again.
fn field_bounds(state: &State<'_>) -> TokenStream {
    let bounds = state.synced().map(|(field, _)| {
        let ty = field.ty;
        quote_spanned! {ty.span()=> #ty: ::nodelink::__private::SyncField }
    });
    quote! { where #(#bounds),* }
}

fn delta_ident(state: &State<'_>) -> syn::Ident {
    format_ident!("{}Delta", state.ident)
}

fn mut_ident(state: &State<'_>) -> syn::Ident {
    format_ident!("{}Mut", state.ident)
}

fn delta_type(state: &State<'_>) -> TokenStream {
    let ident = state.ident;
    let vis = state.vis;
    let delta = delta_ident(state);
    let doc = format!("The changes of one update to [`{ident}`]: each synced field that changed, as `Some(new value)`.");
    let fields = state.synced().map(|(field, _)| {
        let name = field.ident;
        let ty = field.ty;
        let doc = format!("The new `{name}`, if it changed.");
        quote! { #[doc = #doc] pub #name: ::core::option::Option<#ty>, }
    });
    let debug_fields = state.synced().map(|(field, _)| {
        let name = field.ident;
        let label = name.to_string();
        quote! {
            if let ::core::option::Option::Some(value) = &self.#name {
                out.field(#label, (&::nodelink::__private::Probe(value)).as_debug());
            }
        }
    });
    let label = delta.to_string();
    let bounds = field_bounds(state);
    let names: Vec<_> = state.synced().map(|(field, _)| field.ident).collect();
    quote! {
        #[doc = #doc]
        #[derive(Default)]
        #vis struct #delta {
            #(#fields)*
        }

        impl ::core::clone::Clone for #delta #bounds {
            fn clone(&self) -> Self {
                Self { #(#names: ::core::clone::Clone::clone(&self.#names),)* }
            }
        }

        impl ::core::cmp::PartialEq for #delta #bounds {
            fn eq(&self, other: &Self) -> bool {
                true #(&& self.#names == other.#names)*
            }
        }

        impl ::core::fmt::Debug for #delta {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #[allow(unused_imports)]
                use ::nodelink::__private::{ViaDebug as _, ViaOpaque as _};
                let mut out = f.debug_struct(#label);
                #(#debug_fields)*
                out.finish()
            }
        }
    }
}

fn mut_type(state: &State<'_>) -> TokenStream {
    let ident = state.ident;
    let vis = state.vis;
    let view = mut_ident(state);
    let doc = format!("[`{ident}`] with setters that record which synced fields change; reads go through `Deref`.");
    let setters = state.fields.iter().map(|field| {
        let name = field.ident;
        let ty = field.ty;
        let setter = format_ident!("set_{}", name.to_string().trim_start_matches("r#"));
        match field.index {
            Some(index) => {
                let doc = format!("Sets `{name}`; marks it changed only if the new value differs.");
                quote! {
                    #[doc = #doc]
                    pub fn #setter(&mut self, value: #ty) -> &mut Self {
                        if self.state.#name != value {
                            self.state.#name = value;
                            self.dirty.insert(#index);
                        }
                        self
                    }
                }
            }
            None => {
                let doc = format!(
                    "Sets `{name}`, a server-only field (`#[sync(skip)]`) that is never synced."
                );
                quote! {
                    #[doc = #doc]
                    pub fn #setter(&mut self, value: #ty) -> &mut Self {
                        self.state.#name = value;
                        self
                    }
                }
            }
        }
    });
    let label = view.to_string();
    let bounds = field_bounds(state);
    quote! {
        #[doc = #doc]
        #vis struct #view<'a> {
            state: &'a mut #ident,
            dirty: &'a mut ::nodelink::__private::FieldMask,
        }

        impl #view<'_> #bounds {
            #(#setters)*
        }

        impl ::core::ops::Deref for #view<'_> {
            type Target = #ident;

            fn deref(&self) -> &#ident {
                self.state
            }
        }

        impl ::core::fmt::Debug for #view<'_> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#label).field("dirty", &self.dirty).finish_non_exhaustive()
            }
        }
    }
}

fn sync_state_impl(state: &State<'_>) -> TokenStream {
    let ident = state.ident;
    let delta = delta_ident(state);
    let view = mut_ident(state);
    let name = ident.to_string();
    let field_names: Vec<String> = state
        .synced()
        .map(|(field, _)| field.ident.to_string().trim_start_matches("r#").to_owned())
        .collect();

    let described = state.fields.iter().map(|field| {
        let label = field.ident.to_string().trim_start_matches("r#").to_owned();
        match field.index {
            Some(index) => {
                let ty = field.ty;
                let synced = quote_spanned! {ty.span()=>
                    ::nodelink::__private::StateField::synced::<#ty>
                };
                quote! { #synced(#label, #index, types) }
            }
            None => quote! { ::nodelink::__private::StateField::skipped(#label) },
        }
    });
    let changed = state.synced().map(|(field, index)| {
        let name = field.ident;
        quote! { if self.#name != before.#name { mask.insert(#index); } }
    });
    let encode = state
        .synced()
        .zip(&field_names)
        .map(|((field, index), label)| {
            let name = field.ident;
            let write = write_field(field.ty);
            quote! {
                if mask.contains(#index) { #write(out, #label, &self.#name)?; }
            }
        });
    let decode = state
        .synced()
        .zip(&field_names)
        .map(|((field, index), label)| {
            let name = field.ident;
            let read = read_field(field.ty);
            quote! {
                #name: if mask.contains(#index) {
                    ::core::option::Option::Some(#read(input, owner, #label)?)
                } else {
                    ::core::option::Option::None
                },
            }
        });
    let apply = state.synced().map(|(field, _)| {
        let name = field.ident;
        quote! {
            if let ::core::option::Option::Some(value) = &delta.#name {
                self.#name = ::core::clone::Clone::clone(value);
            }
        }
    });
    let delta_mask = state.synced().map(|(field, index)| {
        let name = field.ident;
        quote! { if delta.#name.is_some() { mask.insert(#index); } }
    });
    let to_delta = state.synced().map(|(field, index)| {
        let name = field.ident;
        quote! {
            #name: if mask.contains(#index) {
                ::core::option::Option::Some(::core::clone::Clone::clone(&self.#name))
            } else {
                ::core::option::Option::None
            },
        }
    });

    let bounds = field_bounds(state);
    quote! {
        #[automatically_derived]
        impl ::nodelink::__private::SyncState for #ident #bounds {
            type Delta = #delta;
            type Mut<'a> = #view<'a>;
            const NAME: &'static str = #name;
            const FIELDS: &'static [&'static str] = &[#(#field_names),*];

            fn tracked_mut<'a>(
                state: &'a mut Self,
                dirty: &'a mut ::nodelink::__private::FieldMask,
            ) -> #view<'a> {
                #view { state, dirty }
            }

            #[allow(unused_mut)]
            fn changed_fields(&self, before: &Self) -> ::nodelink::__private::FieldMask {
                let mut mask = ::nodelink::__private::FieldMask::EMPTY;
                #(#changed)*
                mask
            }

            #[allow(unused_variables)]
            fn encode_fields<W: ::nodelink::__private::FieldSink>(
                &self,
                mask: ::nodelink::__private::FieldMask,
                out: &mut W,
            ) -> ::core::result::Result<(), ::nodelink::__private::EncodeError> {
                #(#encode)*
                ::core::result::Result::Ok(())
            }

            #[allow(unused_variables)]
            fn decode_fields<R: ::nodelink::__private::FieldSource>(
                mask: ::nodelink::__private::FieldMask,
                input: &mut R,
            ) -> ::core::result::Result<#delta, ::nodelink::__private::DecodeError> {
                let owner = ::nodelink::__private::FieldOwner::State(#name);
                ::core::result::Result::Ok(#delta { #(#decode)* })
            }

            #[allow(unused_variables)]
            fn apply(&mut self, delta: &#delta) {
                #(#apply)*
            }

            #[allow(unused_mut, unused_variables)]
            fn delta_mask(delta: &#delta) -> ::nodelink::__private::FieldMask {
                let mut mask = ::nodelink::__private::FieldMask::EMPTY;
                #(#delta_mask)*
                mask
            }

            #[allow(unused_variables)]
            fn delta(&self, mask: ::nodelink::__private::FieldMask) -> #delta {
                #delta { #(#to_delta)* }
            }

            #[allow(unused_variables)]
            fn schema(
                types: &mut ::nodelink::__private::TypeRegistry,
            ) -> ::core::option::Option<::nodelink::__private::StateSchema> {
                ::core::option::Option::Some(::nodelink::__private::StateSchema::new(
                    #name,
                    ::nodelink::__private::Vec::<::nodelink::__private::StateField>::from([#(#described),*]),
                ))
            }
        }
    }
}

fn fingerprint_impl(state: &State<'_>) -> TokenStream {
    let ident = state.ident;
    let fields = state.synced().map(|(field, _)| {
        (
            field.ident.to_string().trim_start_matches("r#").to_owned(),
            field.ty,
        )
    });
    let hasher = shape::hasher();
    let body = shape::fields(quote! { #hasher.str("state") }, "named", fields);
    let bounds = field_bounds(state);
    quote! {
        #[automatically_derived]
        impl ::nodelink::__private::Fingerprint for #ident #bounds {
            const FINGERPRINT: u64 = #body.finish();
        }
    }
}
