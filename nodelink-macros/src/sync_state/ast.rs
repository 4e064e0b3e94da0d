//! The struct as the derive sees it: validated, with each field's role.

use syn::{Data, DeriveInput, Fields, Ident, Type, Visibility};

use crate::errors::Errors;

/// The most synced fields a state can have: one bit each in a `u64` mask.
const MAX_FIELDS: usize = 64;

pub(super) struct State<'a> {
    pub(super) ident: &'a Ident,
    pub(super) vis: &'a Visibility,
    /// Every field, in declaration order.
    pub(super) fields: Vec<Field<'a>>,
}

pub(super) struct Field<'a> {
    pub(super) ident: &'a Ident,
    pub(super) ty: &'a Type,
    /// The bit of this field in a mask, or `None` for `#[sync(skip)]`.
    pub(super) index: Option<u32>,
    /// `#[sync(owner)]`: synced only to the player who owns the state.
    pub(super) owner: bool,
    /// `#[sync(tag = "…")]`: synced to the owner and to whom the tag's rule shows it.
    pub(super) tag: Option<String>,
}

impl Field<'_> {
    /// Whether some viewers of the state do not receive this field.
    pub(super) fn private(&self) -> bool {
        self.owner || self.tag.is_some()
    }
}

impl<'a> State<'a> {
    pub(super) fn from_syn(input: &'a DeriveInput) -> syn::Result<Self> {
        let ident = &input.ident;
        let data = match &input.data {
            Data::Struct(data) => data,
            Data::Enum(data) => {
                return Err(syn::Error::new_spanned(
                    data.enum_token,
                    format!("`#[derive(SyncState)]` needs a struct with named fields, and `{ident}` is an enum; for events use `#[nodelink::events]`"),
                ))
            }
            Data::Union(data) => {
                return Err(syn::Error::new_spanned(
                    data.union_token,
                    "`#[derive(SyncState)]` needs a struct with named fields, not a union",
                ))
            }
        };
        let named = match &data.fields {
            Fields::Named(named) => named,
            Fields::Unnamed(fields) => {
                return Err(syn::Error::new_spanned(
                    fields,
                    format!("`#[derive(SyncState)]` needs named fields, so each can have a setter; give the fields of `{ident}` names"),
                ))
            }
            Fields::Unit => {
                return Err(syn::Error::new_spanned(
                    ident,
                    format!("`{ident}` has no fields to sync; use `()` as the state of a game with no per-player state"),
                ))
            }
        };

        let mut errors = Errors::default();
        if let Some(param) = input.generics.params.first() {
            errors.push(syn::Error::new_spanned(
                param,
                format!("`#[derive(SyncState)]` does not support generic parameters; give the fields of `{ident}` concrete types"),
            ));
        }

        let mut fields = Vec::with_capacity(named.named.len());
        let mut synced = 0usize;
        for field in &named.named {
            let Options { skip, owner, tag } = match parse_options(field) {
                Ok(options) => options,
                Err(error) => {
                    errors.push(error);
                    Options::default()
                }
            };
            let index = if skip {
                None
            } else {
                synced += 1;
                if synced == MAX_FIELDS + 1 {
                    errors.push(syn::Error::new_spanned(
                        field,
                        format!(
                            "`#[derive(SyncState)]` supports at most {MAX_FIELDS} synced fields, and `{ident}` has {}; group some into a nested struct or mark server-only ones `#[sync(skip)]`",
                            named.named.len() - count_skipped(&named.named),
                        ),
                    ));
                }
                Some((synced - 1) as u32)
            };
            let Some(field_ident) = &field.ident else {
                continue;
            };
            fields.push(Field {
                ident: field_ident,
                ty: &field.ty,
                index,
                owner,
                tag,
            });
        }
        errors.finish()?;
        Ok(Self {
            ident,
            vis: &input.vis,
            fields,
        })
    }

    pub(super) fn synced(&self) -> impl Iterator<Item = (&Field<'a>, u32)> {
        self.fields
            .iter()
            .filter_map(|field| field.index.map(|index| (field, index)))
    }
}

fn count_skipped<'a>(fields: impl IntoIterator<Item = &'a syn::Field>) -> usize {
    fields
        .into_iter()
        .filter(|f| parse_options(f).is_ok_and(|options| options.skip))
        .count()
}

/// A field's `#[sync(...)]` options.
#[derive(Default)]
struct Options {
    /// `skip`: server-only, never on the wire.
    skip: bool,
    /// `owner`: only to the player who owns the state.
    owner: bool,
    /// `tag = "…"`: to the owner and to whom the tag's rule shows it.
    tag: Option<String>,
}

/// Reads `#[sync(skip)]`, `#[sync(owner)]` and `#[sync(tag = "…")]`.
fn parse_options(field: &syn::Field) -> syn::Result<Options> {
    let mut options = Options::default();
    for attr in &field.attrs {
        if !attr.path().is_ident("sync") {
            continue;
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                options.skip = true;
                Ok(())
            } else if meta.path.is_ident("owner") {
                options.owner = true;
                Ok(())
            } else if meta.path.is_ident("tag") {
                let name: syn::LitStr = meta.value()?.parse()?;
                let tag = name.value();
                if tag.is_empty() || tag.chars().any(char::is_whitespace) {
                    return Err(syn::Error::new_spanned(
                        name,
                        "a tag is a name without spaces, such as `#[sync(tag = \"team\")]`",
                    ));
                }
                options.tag = Some(tag);
                Ok(())
            } else {
                Err(meta.error("unknown `sync` option; the options are `#[sync(skip)]`, for server-only fields that never go on the wire, `#[sync(owner)]`, for fields only the owning player receives, and `#[sync(tag = \"…\")]`, for fields the owner and the players a rule of the game picks receive"))
            }
        })?;
        if options.skip && options.owner {
            return Err(syn::Error::new_spanned(
                attr,
                "a field cannot be both `#[sync(skip)]` (never sent) and `#[sync(owner)]` (sent to its owner); keep one",
            ));
        }
        if options.tag.is_some() && (options.skip || options.owner) {
            return Err(syn::Error::new_spanned(
                attr,
                "a tagged field is sent to its owner and to the players its tag's rule picks; it cannot also be `#[sync(skip)]` (never sent) or `#[sync(owner)]` (its owner only); keep one",
            ));
        }
    }
    Ok(options)
}
