//! What it takes to turn the last applied shape of an object into the one the export asks for:
//! the fewest Aircall calls — one scalar update for every changed name, company or information,
//! and one `phone_details` / `email_details` call per number or email added, replaced or
//! removed (compared in normalised form).

use serde_json::{Map, Value};

use super::shape::{Detail, DetailKind, Shape};
use crate::destination::SyncResource;

/// One write a sync sends to Aircall.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// `POST /v1/contacts` or `POST /v2/users` with the mapped body.
    Create,
    /// `POST /v1/contacts/{id}` (contacts) or `PUT /v2/users/{id}` (users) with these fields.
    UpdateFields(Map<String, Value>),
    AddDetail {
        kind: DetailKind,
        label: String,
        value: String,
    },
    UpdateDetail {
        kind: DetailKind,
        id: u64,
        label: Option<String>,
        value: Option<String>,
    },
    DeleteDetail {
        kind: DetailKind,
        id: u64,
    },
    /// `DELETE /v1/contacts/{id}` or `DELETE /v1/users/{id}`.
    Delete,
}

impl Op {
    /// The operation's name in plans and previews.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Delete => "delete",
            _ => "update",
        }
    }
}

/// The calls that bring `applied` to `desired`. An empty list means the object already matches.
/// Details without a known id (never the case for objects this tool wrote or read) are replaced
/// by adding the wanted value, never by guessing an id.
pub fn changes(resource: SyncResource, applied: &Shape, desired: &Shape) -> Vec<Op> {
    let mut ops = Vec::new();
    let mut fields = Map::new();
    for (name, value) in &desired.scalars {
        let same = applied.scalars.get(name).is_some_and(|old| {
            if name == "email" {
                old.as_str().map(|s| s.trim().to_lowercase()) == value.as_str().map(str::to_string)
            } else {
                old == value
            }
        });
        if !same {
            fields.insert(name.clone(), value.clone());
        }
    }
    if !fields.is_empty() {
        ops.push(Op::UpdateFields(fields));
    }
    if resource == SyncResource::Contacts {
        for kind in [DetailKind::Phone, DetailKind::Email] {
            detail_changes(kind, applied.details(kind), desired.details(kind), &mut ops);
        }
    }
    ops
}

/// Same value (normalised): keep, relabel if needed. The rest pair up in order: a replaced
/// number is one update. Left over: adds, or deletes.
fn detail_changes(kind: DetailKind, applied: &[Detail], desired: &[Detail], ops: &mut Vec<Op>) {
    let mut unused: Vec<&Detail> = applied.iter().collect();
    let mut wanted: Vec<&Detail> = Vec::new();
    for want in desired {
        let key = kind.normalise(&want.value);
        match unused.iter().position(|d| kind.normalise(&d.value) == key) {
            Some(at) => {
                let have = unused.remove(at);
                if have.label != want.label
                    && let Some(id) = have.id
                {
                    ops.push(Op::UpdateDetail {
                        kind,
                        id,
                        label: Some(want.label.clone()),
                        value: None,
                    });
                }
            }
            None => wanted.push(want),
        }
    }
    let mut unused = unused.into_iter().filter_map(|d| d.id.map(|id| (id, d)));
    for want in wanted {
        match unused.next() {
            Some((id, have)) => ops.push(Op::UpdateDetail {
                kind,
                id,
                label: (have.label != want.label).then(|| want.label.clone()),
                value: Some(want.value.clone()),
            }),
            None => ops.push(Op::AddDetail {
                kind,
                label: want.label.clone(),
                value: want.value.clone(),
            }),
        }
    }
    for (id, _) in unused {
        ops.push(Op::DeleteDetail { kind, id });
    }
}

/// `applied` after `op` succeeded with `answer` (the detail Aircall returned, when it returns one).
pub fn apply(applied: &mut Shape, op: &Op, answer: Option<&Value>) {
    match op {
        Op::Create | Op::Delete => {}
        Op::UpdateFields(fields) => {
            for (name, value) in fields {
                applied.scalars.insert(name.clone(), value.clone());
            }
        }
        Op::AddDetail { kind, label, value } => {
            let id = answer
                .and_then(|a| a.get(kind.wrapper()))
                .and_then(|d| d.get("id"))
                .and_then(Value::as_u64);
            applied.details_mut(*kind).push(Detail {
                id,
                label: label.clone(),
                value: value.clone(),
            });
        }
        Op::UpdateDetail {
            kind,
            id,
            label,
            value,
        } => {
            if let Some(detail) = applied
                .details_mut(*kind)
                .iter_mut()
                .find(|d| d.id == Some(*id))
            {
                if let Some(label) = label {
                    detail.label = label.clone();
                }
                if let Some(value) = value {
                    detail.value = value.clone();
                }
            }
        }
        Op::DeleteDetail { kind, id } => applied.details_mut(*kind).retain(|d| d.id != Some(*id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn detail(id: Option<u64>, label: &str, value: &str) -> Detail {
        Detail {
            id,
            label: label.into(),
            value: value.into(),
        }
    }

    fn contact(first: &str, phones: Vec<Detail>, emails: Vec<Detail>) -> Shape {
        let mut shape = Shape {
            phones,
            emails,
            ..Shape::default()
        };
        shape.scalars.insert("first_name".into(), json!(first));
        shape
    }

    #[test]
    fn unchanged_needs_nothing_even_reformatted() {
        let applied = contact(
            "Ann",
            vec![detail(Some(1), "Work", "+1 415 555 0100")],
            vec![],
        );
        let desired = contact("Ann", vec![detail(None, "Work", "+14155550100")], vec![]);
        assert!(changes(SyncResource::Contacts, &applied, &desired).is_empty());
    }

    #[test]
    fn a_replaced_number_is_one_update_and_a_new_email_one_add() {
        let applied = contact("Ann", vec![detail(Some(1), "Work", "+14155550100")], vec![]);
        let desired = contact(
            "Ann",
            vec![detail(None, "Work", "+14155550199")],
            vec![detail(None, "Work", "ann@example.com")],
        );
        let ops = changes(SyncResource::Contacts, &applied, &desired);
        assert_eq!(
            ops,
            vec![
                Op::UpdateDetail {
                    kind: DetailKind::Phone,
                    id: 1,
                    label: None,
                    value: Some("+14155550199".into())
                },
                Op::AddDetail {
                    kind: DetailKind::Email,
                    label: "Work".into(),
                    value: "ann@example.com".into()
                }
            ]
        );
    }

    #[test]
    fn changed_name_sends_only_that_field_and_removed_email_is_deleted() {
        let mut applied = contact("Ann", vec![], vec![detail(Some(4), "Work", "a@x.io")]);
        applied.scalars.insert("last_name".into(), json!("Lee"));
        let mut desired = contact("Anne", vec![], vec![]);
        desired.scalars.insert("last_name".into(), json!("Lee"));
        let ops = changes(SyncResource::Contacts, &applied, &desired);
        let mut fields = Map::new();
        fields.insert("first_name".into(), json!("Anne"));
        assert_eq!(
            ops,
            vec![
                Op::UpdateFields(fields),
                Op::DeleteDetail {
                    kind: DetailKind::Email,
                    id: 4
                }
            ]
        );
        for op in &ops {
            apply(&mut applied, op, None);
        }
        assert!(changes(SyncResource::Contacts, &applied, &desired).is_empty());
    }

    #[test]
    fn added_detail_takes_the_id_aircall_returns() {
        let mut applied = Shape::default();
        let op = Op::AddDetail {
            kind: DetailKind::Phone,
            label: "Work".into(),
            value: "+14155550100".into(),
        };
        apply(&mut applied, &op, Some(&json!({"phone_detail": {"id": 9}})));
        assert_eq!(applied.phones[0].id, Some(9));
    }
}
