//! The code `#[derive(SyncState)]` generates for a validated struct.
//!
//! Every synced field goes through its type's `SyncField` impl, which decides how
//! it is tracked and written: whole, or per sub-field for a nested state. The
//! generated code is the same either way; the field's type picks the behaviour.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Type;

use super::ast::{Field, State};
use super::check;
use crate::shape;

pub(super) fn expand(state: &State<'_>) -> TokenStream {
    let delta = delta_type(state);
    let changes = changes_type(state);
    let view = mut_type(state);
    let sync_impl = sync_state_impl(state);
    // Owner and tagged fields belong to the state a player owns, so a state with
    // any is a top-level state only: without `SyncField` it cannot be nested,
    // where they would go to everyone who sees the parent.
    let field_impl = if state.fields.iter().any(|field| field.private()) {
        TokenStream::new()
    } else {
        sync_field_impl(state)
    };
    let fingerprint = fingerprint_impl(state);
    let checks = check::checks(state);
    quote! {
        #delta
        #changes
        #view
        const _: () = {
            #sync_impl
            #field_impl
            #fingerprint
            #checks
        };
    }
}

/// `<ty as SyncField>`, spanned on the field's type so that a type that cannot be
/// synced is reported there.
fn field_trait(ty: &Type) -> TokenStream {
    quote_spanned! {ty.span()=> <#ty as ::nodelink::__private::SyncField> }
}

/// What every generated item assumes: each synced field's type is a `SyncField`,
/// and the struct has the traits a state needs. Written `for<'a> …`, which the
/// compiler takes as an assumption where the item is written instead of checking
/// it there: the checks (see `check`) report a wrong field once, at the field,
/// rather than once per item. A struct with a wrong field then implements nothing,
/// and a use of it as a state reports that much.
fn field_bounds(state: &State<'_>) -> TokenStream {
    // Each bound is spanned on what it is about, so that the note on a use of a
    // state with a wrong field ("required for … to implement `SyncState`") points
    // at that field.
    let fields = state.synced().map(|(field, _)| {
        let ty = field.ty;
        quote_spanned! {ty.span()=>
            for<'__nodelink> #ty: ::nodelink::__private::check::SyncedField
        }
    });
    let ident = state.ident;
    let itself = quote_spanned! {ident.span()=>
        for<'__nodelink> #ident: ::core::clone::Clone
            + ::core::default::Default
            + ::core::marker::Send
            + ::core::marker::Sync
    };
    quote! { where #(#fields,)* #itself }
}

/// `impl ::nodelink::__private::#trait_name for State #bounds { #body }`.
fn state_impl(
    state: &State<'_>,
    trait_name: &syn::Ident,
    bounds: &TokenStream,
    body: &TokenStream,
) -> TokenStream {
    let ident = state.ident;
    quote! {
        #[automatically_derived]
        impl ::nodelink::__private::#trait_name for #ident #bounds {
            #body
        }
    }
}

fn delta_ident(state: &State<'_>) -> syn::Ident {
    format_ident!("{}Delta", state.ident)
}

fn changes_ident(state: &State<'_>) -> syn::Ident {
    format_ident!("{}Changes", state.ident)
}

fn mut_ident(state: &State<'_>) -> syn::Ident {
    format_ident!("{}Mut", state.ident)
}

/// The field's name as people and the wire see it (no `r#`).
fn label(field: &Field<'_>) -> String {
    field.ident.to_string().trim_start_matches("r#").to_owned()
}

fn delta_type(state: &State<'_>) -> TokenStream {
    let ident = state.ident;
    let vis = state.vis;
    let delta = delta_ident(state);
    let doc = format!("The changes of one update to [`{ident}`]: each synced field that changed, as `Some(new value)` (a nested state's changed sub-fields).");
    let fields = state.synced().map(|(field, _)| {
        let name = field.ident;
        let ty = field.ty;
        let delta = quote_spanned! {ty.span()=>
            ::core::option::Option<<#ty as ::nodelink::__private::SyncField>::Delta>
        };
        let doc = format!("The new `{name}`, if it changed.");
        quote! { #[doc = #doc] pub #name: #delta, }
    });
    let debug_fields = state.synced().map(|(field, _)| {
        let name = field.ident;
        let label = label(field);
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
        #vis struct #delta #bounds {
            #(#fields)*
        }

        impl ::core::default::Default for #delta #bounds {
            fn default() -> Self {
                Self { #(#names: ::core::option::Option::None,)* }
            }
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

        impl ::core::fmt::Debug for #delta #bounds {
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

fn changes_type(state: &State<'_>) -> TokenStream {
    let ident = state.ident;
    let vis = state.vis;
    let changes = changes_ident(state);
    let doc = format!("What changed in a [`{ident}`] since the changes were last taken, field by field; kept by the runtime.");
    let fields = state.synced().map(|(field, _)| {
        let name = field.ident;
        let ty = field.ty;
        let changes = quote_spanned! {ty.span()=>
            <#ty as ::nodelink::__private::SyncField>::Changes
        };
        quote! { #name: #changes, }
    });
    let names: Vec<_> = state.synced().map(|(field, _)| field.ident).collect();
    let labels: Vec<_> = state.synced().map(|(field, _)| label(field)).collect();
    let label = changes.to_string();
    let bounds = field_bounds(state);
    quote! {
        #[doc = #doc]
        #vis struct #changes #bounds {
            #(#fields)*
        }

        impl ::core::default::Default for #changes #bounds {
            fn default() -> Self {
                Self { #(#names: ::core::default::Default::default(),)* }
            }
        }

        impl ::core::clone::Clone for #changes #bounds {
            fn clone(&self) -> Self {
                Self { #(#names: ::core::clone::Clone::clone(&self.#names),)* }
            }
        }

        impl ::core::cmp::PartialEq for #changes #bounds {
            fn eq(&self, other: &Self) -> bool {
                true #(&& self.#names == other.#names)*
            }
        }

        impl ::core::fmt::Debug for #changes #bounds {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let mut out = f.debug_struct(#label);
                #(
                    if !::nodelink::__private::ChangeSet::is_empty(&self.#names) {
                        out.field(#labels, &self.#names);
                    }
                )*
                out.finish()
            }
        }

        impl ::nodelink::__private::ChangeSet for #changes #bounds {
            fn is_empty(&self) -> bool {
                true #(&& ::nodelink::__private::ChangeSet::is_empty(&self.#names))*
            }

            fn mark_all(&mut self) {
                #(::nodelink::__private::ChangeSet::mark_all(&mut self.#names);)*
            }

            #[allow(unused_variables)]
            fn merge(&mut self, other: &Self) {
                #(::nodelink::__private::ChangeSet::merge(&mut self.#names, &other.#names);)*
            }
        }
    }
}

fn mut_type(state: &State<'_>) -> TokenStream {
    let ident = state.ident;
    let vis = state.vis;
    let view = mut_ident(state);
    let changes = changes_ident(state);
    let doc = format!("[`{ident}`] with setters that record which synced fields change; reads go through `Deref`.");
    let setters = state.fields.iter().map(|field| {
        let name = field.ident;
        let ty = field.ty;
        let setter = format_ident!("set_{}", label(field));
        match field.index {
            Some(_) => {
                let field_trait = field_trait(ty);
                let doc = format!("Sets `{name}`; marks it changed only if the new value differs (a nested state: only the sub-fields that differ).");
                let view_doc = format!("`{name}` for changing in place: a nested state's view, with its own setters, or a plain value's `set`.");
                quote! {
                    #[doc = #doc]
                    pub fn #setter(&mut self, value: #ty) -> &mut Self {
                        #field_trait::replace(&mut self.state.#name, value, &mut self.changes.#name);
                        self
                    }

                    #[doc = #view_doc]
                    pub fn #name(&mut self) -> #field_trait::Mut<'_> {
                        #field_trait::field_mut(&mut self.state.#name, &mut self.changes.#name)
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
        #vis struct #view<'a> #bounds {
            state: &'a mut #ident,
            changes: &'a mut #changes,
        }

        impl #view<'_> #bounds {
            #(#setters)*
        }

        impl ::core::ops::Deref for #view<'_> #bounds {
            type Target = #ident;

            fn deref(&self) -> &#ident {
                self.state
            }
        }

        impl ::core::fmt::Debug for #view<'_> #bounds {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#label).field("changes", &self.changes).finish_non_exhaustive()
            }
        }
    }
}

fn sync_state_impl(state: &State<'_>) -> TokenStream {
    let ident = state.ident;
    let delta = delta_ident(state);
    let changes = changes_ident(state);
    let view = mut_ident(state);
    let name = ident.to_string();
    let field_names: Vec<String> = state.synced().map(|(field, _)| label(field)).collect();

    let described = state.fields.iter().map(|field| {
        let label = label(field);
        match field.index {
            Some(index) => {
                let ty = field.ty;
                let owner = field.owner;
                let synced = quote_spanned! {ty.span()=>
                    ::nodelink::__private::StateField::synced::<#ty>
                };
                let tagged = field.tag.as_ref().map(|tag| quote! { .tagged(#tag) });
                quote! { #synced(#label, #index, types).owned_by_player(#owner) #tagged }
            }
            None => quote! { ::nodelink::__private::StateField::skipped(#label) },
        }
    });
    let diff = state.synced().map(|(field, _)| {
        let name = field.ident;
        let field_trait = field_trait(field.ty);
        quote! { #field_trait::diff(&self.#name, &before.#name, &mut changes.#name); }
    });
    let mask = state.synced().map(|(field, index)| {
        let name = field.ident;
        quote! { | ::nodelink::__private::bit_if_changed(&changes.#name, #index) }
    });
    let restrict = state.synced().map(|(field, index)| {
        let name = field.ident;
        quote! {
            if !keep.contains(#index) {
                changes.#name = ::core::default::Default::default();
            }
        }
    });
    let owner_bits: u64 = state
        .synced()
        .filter(|(field, _)| field.owner)
        .fold(0, |bits, (_, index)| bits | 1 << index);
    // Each tag once, in order of first appearance, with the bits of its fields.
    let mut tags: Vec<(&str, u64)> = Vec::new();
    for (field, index) in state.synced() {
        if let Some(tag) = &field.tag {
            match tags.iter_mut().find(|(name, _)| name == tag) {
                Some((_, bits)) => *bits |= 1 << index,
                None => tags.push((tag, 1 << index)),
            }
        }
    }
    let tagged_bits: u64 = tags.iter().fold(0, |all, (_, bits)| all | bits);
    let tag_entries = tags.iter().map(|(name, bits)| {
        quote! { (#name, ::nodelink::__private::FieldMask::from_bits(#bits)) }
    });
    let encode = state
        .synced()
        .zip(&field_names)
        .map(|((field, index), label)| {
            let name = field.ident;
            let field_trait = field_trait(field.ty);
            quote! {
                if mask.contains(#index) {
                    #field_trait::encode(&self.#name, #label, selection.map(|c| &c.#name), out)?;
                }
            }
        });
    let decode = state
        .synced()
        .zip(&field_names)
        .map(|((field, index), label)| {
            let name = field.ident;
            let field_trait = field_trait(field.ty);
            quote! {
                #name: if mask.contains(#index) {
                    ::core::option::Option::Some(#field_trait::decode(owner, #label, input)?)
                } else {
                    ::core::option::Option::None
                },
            }
        });
    let apply = state.synced().map(|(field, _)| {
        let name = field.ident;
        let field_trait = field_trait(field.ty);
        quote! {
            if let ::core::option::Option::Some(value) = &delta.#name {
                #field_trait::apply(&mut self.#name, value);
            }
        }
    });
    let delta_mask = state.synced().map(|(field, index)| {
        let name = field.ident;
        quote! { if delta.#name.is_some() { mask.insert(#index); } }
    });
    let to_delta = state.synced().map(|(field, index)| {
        let name = field.ident;
        let field_trait = field_trait(field.ty);
        quote! {
            #name: if mask.contains(#index) {
                ::core::option::Option::Some(#field_trait::delta(&self.#name, selection.map(|c| &c.#name)))
            } else {
                ::core::option::Option::None
            },
        }
    });

    let bounds = field_bounds(state);
    let body = quote! {
            type Changes = #changes;
            type Delta = #delta;
            type Mut<'a> = #view<'a>;
            const NAME: &'static str = #name;
            const FIELDS: &'static [&'static str] = &[#(#field_names),*];
            const OWNER: ::nodelink::__private::FieldMask =
                ::nodelink::__private::FieldMask::from_bits(#owner_bits);
            const TAGS: &'static [(&'static str, ::nodelink::__private::FieldMask)] =
                &[#(#tag_entries),*];
            const TAGGED: ::nodelink::__private::FieldMask =
                ::nodelink::__private::FieldMask::from_bits(#tagged_bits);

            fn tracked_mut<'a>(state: &'a mut Self, changes: &'a mut #changes) -> #view<'a> {
                #view { state, changes }
            }

            #[allow(unused_variables)]
            fn diff(&self, before: &Self, changes: &mut #changes) {
                #(#diff)*
            }

            #[allow(unused_variables)]
            fn mask(changes: &#changes) -> ::nodelink::__private::FieldMask {
                ::nodelink::__private::FieldMask::EMPTY #(#mask)*
            }

            #[allow(unused_variables)]
            fn restrict(changes: &mut #changes, keep: ::nodelink::__private::FieldMask) {
                #(#restrict)*
            }

            #[allow(unused_variables)]
            fn encode_fields<W: ::nodelink::__private::FieldSink>(
                &self,
                selection: ::nodelink::__private::Selection<'_, #changes>,
                out: &mut W,
            ) -> ::core::result::Result<(), ::nodelink::__private::EncodeError> {
                let mask = selection.mask::<Self>();
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
            fn delta(&self, selection: ::nodelink::__private::Selection<'_, #changes>) -> #delta {
                let mask = selection.mask::<Self>();
                #delta { #(#to_delta)* }
            }

            #[allow(unused_variables)]
            fn schema(
                types: &mut ::nodelink::__private::TypeRegistry,
            ) -> ::core::option::Option<::nodelink::__private::StateSchema> {
                ::core::option::Option::Some(::nodelink::__private::StateSchema::new(
                    #name,
                    ::core::convert::From::from([#(#described),*]),
                ))
            }
    };
    state_impl(state, &format_ident!("SyncState"), &bounds, &body)
}

/// The state as a field of another state: tracked per sub-field, written as
/// `[mask, value…]` (an object of the changed sub-fields in JSON).
fn sync_field_impl(state: &State<'_>) -> TokenStream {
    let ident = state.ident;
    let delta = delta_ident(state);
    let changes = changes_ident(state);
    let view = mut_ident(state);
    let name = ident.to_string();
    let bounds = field_bounds(state);
    let body = quote! {
            type Changes = #changes;
            type Delta = #delta;
            type Mut<'a> = #view<'a>;

            fn field_mut<'a>(value: &'a mut Self, changes: &'a mut #changes) -> #view<'a> {
                #view { state: value, changes }
            }

            fn replace(value: &mut Self, new: Self, changes: &mut #changes) {
                ::nodelink::__private::SyncState::diff(&new, value, changes);
                *value = new;
            }

            fn diff(value: &Self, before: &Self, changes: &mut #changes) {
                ::nodelink::__private::SyncState::diff(value, before, changes);
            }

            fn encode<W: ::nodelink::__private::FieldSink>(
                value: &Self,
                name: &'static str,
                selection: ::nodelink::__private::Selection<'_, #changes>,
                out: &mut W,
            ) -> ::core::result::Result<(), ::nodelink::__private::EncodeError> {
                let mask = selection.mask::<Self>();
                out.nested(name, mask, |out| {
                    ::nodelink::__private::SyncState::encode_fields(value, selection, out)
                })
            }

            fn decode<R: ::nodelink::__private::FieldSource>(
                owner: ::nodelink::__private::FieldOwner,
                name: &'static str,
                input: &mut R,
            ) -> ::core::result::Result<#delta, ::nodelink::__private::DecodeError> {
                input.nested(
                    owner,
                    name,
                    #name,
                    <Self as ::nodelink::__private::SyncState>::FIELDS.len(),
                    |mask, input| <Self as ::nodelink::__private::SyncState>::decode_fields(mask, input),
                )
            }

            fn apply(value: &mut Self, delta: &#delta) {
                ::nodelink::__private::SyncState::apply(value, delta);
            }

            fn delta(
                value: &Self,
                selection: ::nodelink::__private::Selection<'_, #changes>,
            ) -> #delta {
                ::nodelink::__private::SyncState::delta(value, selection)
            }
    };
    state_impl(state, &format_ident!("SyncField"), &bounds, &body)
}

fn fingerprint_impl(state: &State<'_>) -> TokenStream {
    let ident = state.ident;
    let fields = state.synced().map(|(field, _)| (label(field), field.ty));
    let hasher = shape::hasher();
    let body = shape::fields(quote! { #hasher.str("state") }, "named", fields);
    let bounds = field_bounds(state);
    let name = ident.to_string();
    quote! {
        #[automatically_derived]
        impl ::nodelink::__private::Fingerprint for #ident #bounds {
            const FINGERPRINT: u64 = #body.finish();

            fn describe(
                types: &mut ::nodelink::__private::TypeRegistry,
            ) -> ::nodelink::__private::Type {
                types.define(
                    #name,
                    <Self as ::nodelink::__private::Fingerprint>::FINGERPRINT,
                    |types| {
                        let state = <Self as ::nodelink::__private::SyncState>::schema(types);
                        ::nodelink::__private::TypeDef::state(state)
                    },
                )
            }
        }
    }
}
