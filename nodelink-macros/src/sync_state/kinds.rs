//! `#[derive(SyncState)]` on an enum: a state of several kinds (monsters, loot,
//! projectiles as one protocol's entities), each variant holding the state of
//! its kind. On the wire it is a state whose fields are the kinds, exactly one
//! present: the current kind's, with its own field mask; a value that changes
//! kind is sent whole, and a receiver that sees another kind's field replaces
//! its value with that kind.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DataEnum, DeriveInput, Fields, Ident, Type, Visibility};

use crate::errors::Errors;
use crate::naming::snake_case;
use crate::shape;

/// The most kinds: one bit each in a `u64` mask.
const MAX_KINDS: usize = 64;

pub(super) struct Kinds<'a> {
    ident: &'a Ident,
    vis: &'a Visibility,
    kinds: Vec<Kind<'a>>,
}

struct Kind<'a> {
    variant: &'a Ident,
    /// The field name the kind has on the wire and in the schema.
    label: String,
    ty: &'a Type,
    /// The mask bit of the kind.
    index: u32,
}

impl<'a> Kinds<'a> {
    pub(super) fn from_syn(input: &'a DeriveInput, data: &'a DataEnum) -> syn::Result<Self> {
        let ident = &input.ident;
        let mut errors = Errors::default();
        if let Some(param) = input.generics.params.first() {
            errors.push(syn::Error::new_spanned(
                param,
                format!("`#[derive(SyncState)]` does not support generic parameters; give the kinds of `{ident}` concrete types"),
            ));
        }
        if data.variants.is_empty() {
            errors.push(syn::Error::new_spanned(
                ident,
                format!("`{ident}` has no kinds; an enum state has one variant per kind, each holding that kind's state: `Monster(Monster)`"),
            ));
        }
        if data.variants.len() > MAX_KINDS {
            errors.push(syn::Error::new_spanned(
                ident,
                format!(
                    "an enum state has at most {MAX_KINDS} kinds, and `{ident}` has {}",
                    data.variants.len()
                ),
            ));
        }
        let mut kinds = Vec::with_capacity(data.variants.len());
        for (index, variant) in data.variants.iter().enumerate() {
            for attr in &variant.attrs {
                if attr.path().is_ident("sync") || attr.path().is_ident("default") {
                    errors.push(syn::Error::new_spanned(
                        attr,
                        "a kind takes no attributes: its fields carry the `#[sync(…)]` options, and the first kind is the default",
                    ));
                }
            }
            let ty = match &variant.fields {
                Fields::Unnamed(fields) if fields.unnamed.len() == 1 => &fields.unnamed[0].ty,
                _ => {
                    let name = &variant.ident;
                    errors.push(syn::Error::new_spanned(
                        variant,
                        format!("each variant of an enum of kinds holds one value, its kind's state: write `{name}({name})` with `#[derive(SyncState)] struct {name} {{ … }}`; to sync a plain enum whole, as a field's value, use `#[nodelink::data]` instead"),
                    ));
                    continue;
                }
            };
            kinds.push(Kind {
                variant: &variant.ident,
                label: snake_case(&variant.ident.to_string()),
                ty,
                index: index as u32,
            });
        }
        for (i, kind) in kinds.iter().enumerate() {
            if kind.label == "set" {
                errors.push(syn::Error::new_spanned(
                    kind.variant,
                    "a kind cannot be named `Set`: the view's `set` replaces the value with another; rename the kind",
                ));
            }
            if kinds[..i].iter().any(|other| other.label == kind.label) {
                errors.push(syn::Error::new_spanned(
                    kind.variant,
                    format!(
                        "two kinds are named `{}` on the wire; rename one",
                        kind.label
                    ),
                ));
            }
        }
        errors.finish()?;
        Ok(Self {
            ident,
            vis: &input.vis,
            kinds,
        })
    }
}

/// The Rust name of a kind's view method and delta field: its wire name, raw when
/// a keyword (`r#type`), or with `_` for the keywords that cannot be raw
/// (`crate_`).
fn member_name(label: &str) -> Ident {
    if syn::parse_str::<Ident>(label).is_ok() {
        return format_ident!("{}", label);
    }
    match label {
        "crate" | "self" | "super" => format_ident!("{}_", label),
        _ => Ident::new_raw(label, proc_macro2::Span::call_site()),
    }
}

fn field_trait(ty: &Type) -> TokenStream {
    quote_spanned! {ty.span()=> <#ty as ::nodelink::__private::SyncField> }
}

/// What every generated item assumes (see the struct derive's `field_bounds`).
fn bounds(kinds: &Kinds<'_>) -> TokenStream {
    let fields = kinds.kinds.iter().map(|kind| {
        let ty = kind.ty;
        quote_spanned! {ty.span()=>
            for<'__nodelink> #ty: ::nodelink::__private::check::SyncedField
                + ::core::default::Default
        }
    });
    let ident = kinds.ident;
    let itself = quote_spanned! {ident.span()=>
        for<'__nodelink> #ident: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
    };
    quote! { where #(#fields,)* #itself }
}

pub(super) fn expand(kinds: &Kinds<'_>) -> TokenStream {
    let ident = kinds.ident;
    let vis = kinds.vis;
    let delta = format_ident!("{}Delta", ident);
    let changes = format_ident!("{}Changes", ident);
    let view = format_ident!("{}Mut", ident);
    let bounds = bounds(kinds);
    let name = ident.to_string();
    let all = &kinds.kinds;
    let names: Vec<Ident> = all.iter().map(|kind| member_name(&kind.label)).collect();
    let labels: Vec<&str> = all.iter().map(|kind| kind.label.as_str()).collect();
    let variants: Vec<&Ident> = all.iter().map(|kind| kind.variant).collect();
    let indexes: Vec<u32> = all.iter().map(|kind| kind.index).collect();
    let traits: Vec<TokenStream> = all.iter().map(|kind| field_trait(kind.ty)).collect();
    let types: Vec<&Type> = all.iter().map(|kind| kind.ty).collect();

    let delta_fields = all.iter().zip(&names).map(|(kind, name)| {
        let ty = kind.ty;
        let doc = format!("The `{}` kind's changes, if the value is of that kind and changed (all of it when it became that kind).", kind.variant);
        quote_spanned! {ty.span()=>
            #[doc = #doc]
            pub #name: ::core::option::Option<<#ty as ::nodelink::__private::SyncField>::Delta>,
        }
    });
    let change_fields = all.iter().zip(&names).map(|(kind, name)| {
        let ty = kind.ty;
        quote_spanned! {ty.span()=> #name: <#ty as ::nodelink::__private::SyncField>::Changes, }
    });
    let delta_doc = format!("The changes of one update to [`{ident}`]: the current kind's changed fields, under its name.");
    let changes_doc = format!(
        "What changed in a [`{ident}`] since the changes were last taken; kept by the runtime."
    );
    let view_doc = format!("[`{ident}`] with views that record what changes: the current kind's own (`{}()`), or [`set`](Self::set) to replace the value, of any kind; reads go through `Deref`.", labels[0]);
    let delta_label = delta.to_string();
    let changes_label = changes.to_string();
    let view_label = view.to_string();
    let first_variant = variants[0];
    let first_type = types[0];

    let accessors = all.iter().zip(&names).map(|(kind, name)| {
        let variant = kind.variant;
        let field_trait = field_trait(kind.ty);
        let doc = format!("The `{variant}` kind's view, recording what changes, if the value is of that kind.");
        quote! {
            #[doc = #doc]
            pub fn #name(&mut self) -> ::core::option::Option<#field_trait::Mut<'_>> {
                match self.state {
                    #ident::#variant(value) => ::core::option::Option::Some(#field_trait::field_mut(value, &mut self.changes.#name)),
                    #[allow(unreachable_patterns)]
                    _ => ::core::option::Option::None,
                }
            }
        }
    });
    // `From` for each kind's type that only one kind holds.
    let froms = all
        .iter()
        .filter(|kind| {
            let text = kind.ty.to_token_stream_string();
            all.iter()
                .filter(|other| other.ty.to_token_stream_string() == text)
                .count()
                == 1
        })
        .map(|kind| {
            let variant = kind.variant;
            let ty = kind.ty;
            quote! {
                impl ::core::convert::From<#ty> for #ident {
                    fn from(value: #ty) -> Self {
                        #ident::#variant(value)
                    }
                }
            }
        });
    let schema_fields = all.iter().map(|kind| {
        let ty = kind.ty;
        let label = &kind.label;
        let index = kind.index;
        let synced = quote_spanned! {ty.span()=> ::nodelink::__private::StateField::synced::<#ty> };
        quote! { #synced(#label, #index, types) }
    });
    let hasher = shape::hasher();
    let fingerprint = shape::fields(
        quote! { #hasher.str("kinds") },
        "named",
        all.iter().map(|kind| (kind.label.clone(), kind.ty)),
    );
    let probes = types.iter().map(|ty| {
        let probes = super::check::field_probes(ty);
        let default =
            quote_spanned! {ty.span()=> ::nodelink::__private::check::kind_has_default::<#ty>(); };
        quote! { #probes #default }
    });
    let check = quote! { ::nodelink::__private::check };
    let kinds_check = quote_spanned! {ident.span()=> #check::kinds_enum::<#ident>(); };

    quote! {
        #[doc = #delta_doc]
        #vis struct #delta #bounds {
            #(#delta_fields)*
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
                let mut out = f.debug_struct(#delta_label);
                #(
                    if let ::core::option::Option::Some(value) = &self.#names {
                        out.field(#labels, (&::nodelink::__private::Probe(value)).as_debug());
                    }
                )*
                out.finish()
            }
        }

        #[doc = #changes_doc]
        #vis struct #changes #bounds {
            #(#change_fields)*
            /// The value became its current kind: that kind goes out, even with
            /// nothing of it marked (a kind without synced fields).
            __nodelink_switched: bool,
        }

        impl ::core::default::Default for #changes #bounds {
            fn default() -> Self {
                Self {
                    #(#names: ::core::default::Default::default(),)*
                    __nodelink_switched: false,
                }
            }
        }

        impl ::core::clone::Clone for #changes #bounds {
            fn clone(&self) -> Self {
                Self {
                    #(#names: ::core::clone::Clone::clone(&self.#names),)*
                    __nodelink_switched: self.__nodelink_switched,
                }
            }
        }

        impl ::core::cmp::PartialEq for #changes #bounds {
            fn eq(&self, other: &Self) -> bool {
                self.__nodelink_switched == other.__nodelink_switched #(&& self.#names == other.#names)*
            }
        }

        impl ::core::fmt::Debug for #changes #bounds {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let mut out = f.debug_struct(#changes_label);
                if self.__nodelink_switched {
                    out.field("switched", &true);
                }
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
                !self.__nodelink_switched #(&& ::nodelink::__private::ChangeSet::is_empty(&self.#names))*
            }

            fn mark_all(&mut self) {
                self.__nodelink_switched = true;
                #(::nodelink::__private::ChangeSet::mark_all(&mut self.#names);)*
            }

            fn merge(&mut self, other: &Self) {
                self.__nodelink_switched |= other.__nodelink_switched;
                #(::nodelink::__private::ChangeSet::merge(&mut self.#names, &other.#names);)*
            }
        }

        #[doc = #view_doc]
        #vis struct #view<'a> #bounds {
            state: &'a mut #ident,
            changes: &'a mut #changes,
        }

        impl #view<'_> #bounds {
            /// Replaces the value: of the same kind, only what differs is sent; of
            /// another kind, all of it.
            pub fn set(&mut self, value: #ident) -> &mut Self {
                let before = ::core::mem::replace(self.state, value);
                ::nodelink::__private::SyncState::diff(&*self.state, &before, self.changes);
                self
            }

            #(#accessors)*
        }

        impl ::core::ops::Deref for #view<'_> #bounds {
            type Target = #ident;

            fn deref(&self) -> &#ident {
                self.state
            }
        }

        impl ::core::fmt::Debug for #view<'_> #bounds {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#view_label).field("changes", &self.changes).finish_non_exhaustive()
            }
        }

        const _: () = {
            /// The first kind, at its default.
            #[automatically_derived]
            impl ::core::default::Default for #ident #bounds {
                fn default() -> Self {
                    #ident::#first_variant(<#first_type as ::core::default::Default>::default())
                }
            }

            #(#froms)*

            #[automatically_derived]
            impl #ident #bounds {
                /// The name of the value's kind, as on the wire and in the schema.
                #[must_use]
                pub fn kind_name(&self) -> &'static str {
                    match self {
                        #(#ident::#variants(_) => #labels,)*
                    }
                }
            }

            /// The mask bit of `value`'s kind.
            fn __nodelink_kind_bit(value: &#ident) -> ::nodelink::__private::FieldMask #bounds {
                match value {
                    #(#ident::#variants(_) => ::nodelink::__private::FieldMask::from_bits(1 << #indexes),)*
                }
            }

            /// Forgets every change, then marks all of `value`'s current kind: what
            /// a receiver needs to replace a value of another kind.
            fn __nodelink_became(value: &#ident, changes: &mut #changes) #bounds {
                *changes = ::core::default::Default::default();
                changes.__nodelink_switched = true;
                match value {
                    #(#ident::#variants(_) => ::nodelink::__private::ChangeSet::mark_all(&mut changes.#names),)*
                }
            }

            #[automatically_derived]
            impl ::nodelink::__private::SyncState for #ident #bounds {
                type Changes = #changes;
                type Delta = #delta;
                type Mut<'a> = #view<'a>;
                const NAME: &'static str = #name;
                const FIELDS: &'static [&'static str] = &[#(#labels),*];
                const ONE_OF: bool = true;

                fn tracked_mut<'a>(state: &'a mut Self, changes: &'a mut #changes) -> #view<'a> {
                    #view { state, changes }
                }

                fn diff(&self, before: &Self, changes: &mut #changes) {
                    match (self, before) {
                        #((#ident::#variants(now), #ident::#variants(was)) => #traits::diff(now, was, &mut changes.#names),)*
                        #[allow(unreachable_patterns)]
                        _ => __nodelink_became(self, changes),
                    }
                }

                fn mask(changes: &#changes) -> ::nodelink::__private::FieldMask {
                    // A change of kind names every kind: `selected` keeps the
                    // current one.
                    if changes.__nodelink_switched {
                        return <Self as ::nodelink::__private::SyncState>::ALL;
                    }
                    ::nodelink::__private::FieldMask::EMPTY
                        #(| ::nodelink::__private::bit_if_changed(&changes.#names, #indexes))*
                }

                fn restrict(changes: &mut #changes, keep: ::nodelink::__private::FieldMask) {
                    #(
                        if !keep.contains(#indexes) {
                            changes.#names = ::core::default::Default::default();
                        }
                    )*
                }

                fn selected(
                    &self,
                    selection: ::nodelink::__private::Selection<'_, #changes>,
                ) -> ::nodelink::__private::FieldMask {
                    selection.mask::<Self>() & __nodelink_kind_bit(self)
                }

                fn encode_fields<W: ::nodelink::__private::FieldSink>(
                    &self,
                    selection: ::nodelink::__private::Selection<'_, #changes>,
                    out: &mut W,
                ) -> ::core::result::Result<(), ::nodelink::__private::EncodeError> {
                    if ::nodelink::__private::SyncState::selected(self, selection).is_empty() {
                        return ::core::result::Result::Ok(());
                    }
                    match self {
                        #(#ident::#variants(value) => #traits::encode(value, #labels, selection.map(|c| &c.#names), out),)*
                    }
                }

                fn decode_fields<R: ::nodelink::__private::FieldSource>(
                    mask: ::nodelink::__private::FieldMask,
                    input: &mut R,
                ) -> ::core::result::Result<#delta, ::nodelink::__private::DecodeError> {
                    let owner = ::nodelink::__private::FieldOwner::State(#name);
                    if mask.len() > 1 {
                        return ::core::result::Result::Err(::nodelink::__private::DecodeError::Malformed(
                            ::std::format!("{}: a value holds one kind, the mask names {}", #name, mask.len()),
                        ));
                    }
                    ::core::result::Result::Ok(#delta {
                        #(
                            #names: if mask.contains(#indexes) {
                                ::core::option::Option::Some(#traits::decode(owner, #labels, input)?)
                            } else {
                                ::core::option::Option::None
                            },
                        )*
                    })
                }

                fn apply(&mut self, delta: &#delta) {
                    #(
                        if let ::core::option::Option::Some(changes) = &delta.#names {
                            match self {
                                #ident::#variants(value) => #traits::apply(value, changes),
                                #[allow(unreachable_patterns)]
                                _ => {
                                    // Another kind: the value is replaced, and the
                                    // delta carries all of the new kind.
                                    let mut value = <#types as ::core::default::Default>::default();
                                    #traits::apply(&mut value, changes);
                                    *self = #ident::#variants(value);
                                }
                            }
                        }
                    )*
                }

                #[allow(unused_mut)]
                fn delta_mask(delta: &#delta) -> ::nodelink::__private::FieldMask {
                    let mut mask = ::nodelink::__private::FieldMask::EMPTY;
                    #(if delta.#names.is_some() { mask.insert(#indexes); })*
                    mask
                }

                fn delta(&self, selection: ::nodelink::__private::Selection<'_, #changes>) -> #delta {
                    let mut delta = <#delta as ::core::default::Default>::default();
                    if ::nodelink::__private::SyncState::selected(self, selection).is_empty() {
                        return delta;
                    }
                    match self {
                        #(#ident::#variants(value) => {
                            delta.#names = ::core::option::Option::Some(#traits::delta(value, selection.map(|c| &c.#names)));
                        })*
                    }
                    delta
                }

                fn schema(
                    types: &mut ::nodelink::__private::TypeRegistry,
                ) -> ::core::option::Option<::nodelink::__private::StateSchema> {
                    ::core::option::Option::Some(
                        ::nodelink::__private::StateSchema::new(
                            #name,
                            ::core::convert::From::from([#(#schema_fields),*]),
                        )
                        .one_of(),
                    )
                }
            }

            #[automatically_derived]
            impl ::nodelink::__private::Fingerprint for #ident #bounds {
                const FINGERPRINT: u64 = #fingerprint.finish();

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

            impl #check::DerivedState for #ident {}

            #[allow(clippy::all)]
            const _: fn() = || {
                use #check::levels::*;
                #kinds_check
                #(#probes)*
            };
        };
    }
}

/// A type's tokens as text, to tell kinds holding the same type apart.
trait TokenText {
    fn to_token_stream_string(&self) -> String;
}

impl TokenText for Type {
    fn to_token_stream_string(&self) -> String {
        quote::ToTokens::to_token_stream(self).to_string()
    }
}
