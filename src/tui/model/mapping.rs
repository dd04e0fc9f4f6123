//! The field mapping form: a row per field of the template's resource and per entry, built from the destination and written back one entry at a time.

use super::*;

#[derive(Debug, Clone, PartialEq)]
pub struct MappingRow {
    pub target: String,
    pub required: bool,
    pub description: String,
    /// A field of the template's resource (removing its entry leaves the row, unset).
    pub is_field: bool,
    /// Entries that set parts of this field (`phone_numbers[0].value` under `phone_numbers`).
    pub sub_entries: usize,
    /// "(not set)", each attribute, then "constant…".
    pub source: Pulldown,
    pub constant: TextInput,
    pub transform: Pulldown,
    /// The entry's options are shown.
    pub expanded: bool,
    pub optional: Checkbox,
    /// "always", then each attribute.
    pub if_present: Pulldown,
    /// ISO 3166 alpha-2 codes, for `e164`.
    pub country: Pulldown,
    /// The column the suggestion guessed for this entry from a name the template does not know
    /// (`FName` for `first_name`), while the entry is still that guess: the person should check it.
    pub guessed_from: Option<String>,
}

impl MappingRow {
    pub fn is_constant(&self) -> bool {
        self.source.selected_label() == CONSTANT
    }

    pub fn is_set(&self) -> bool {
        self.source.selected() != 0
    }

    pub fn is_e164(&self) -> bool {
        Transform::ALL.get(self.transform.selected()) == Some(&Transform::E164)
    }
}

pub const CONSTANT: &str = "constant…";
pub const ALWAYS: &str = "always";

/// The ISO code of a country choice (`FR +33` → `FR`).
pub fn country_of(choice: &str) -> &str {
    choice.split(' ').next().unwrap_or(choice)
}

/// The first name of a target path: `phone_numbers` for `phone_numbers[0].value`.
pub fn top_level(target: &str) -> &str {
    target.split(['.', '[']).next().unwrap_or(target)
}

impl Model {
    /// Rebuilds the widgets listing dataset attributes (mapping sources, exclude list,
    /// template parameters).
    pub fn refresh_attribute_widgets(&mut self) {
        let attributes = self.attributes();
        self.configure.request.set_attributes(attributes.clone());
        self.configure.parameters = self.parameter_widgets(&attributes);
        let mut fields = self.resource_fields();
        fields.sort_by_key(|f| !f.required);
        let expanded: Vec<String> = self
            .configure
            .mapping
            .iter()
            .filter(|r| r.expanded)
            .map(|r| r.target.clone())
            .collect();
        let mut targets: Vec<String> = self.dest.mapping.iter().map(|m| m.target.clone()).collect();
        for added in &self.configure.added_targets {
            if !targets.contains(added) {
                targets.push(added.clone());
            }
        }
        let mut rows = Vec::new();
        // Each field of the resource, followed by the entries that set parts of it.
        for field in &fields {
            let mut row =
                self.mapping_row(&field.name, field.required, &field.description, &attributes);
            row.is_field = true;
            let parts: Vec<&String> = targets
                .iter()
                .filter(|t| top_level(t) == field.name && **t != field.name)
                .collect();
            row.sub_entries = parts.len();
            if row.sub_entries > 0 && !row.is_set() {
                let mut options = row.source.options().to_vec();
                options[0] = format!(
                    "(set by {} entr{} below)",
                    row.sub_entries,
                    if row.sub_entries == 1 { "y" } else { "ies" }
                );
                row.source = Pulldown::new(options, 0);
            }
            rows.push(row);
            for target in parts {
                rows.push(self.mapping_row(target, false, "", &attributes));
            }
        }
        // Entries for targets the resource does not list stay editable too.
        for target in &targets {
            if !rows.iter().any(|r| &r.target == target) {
                rows.push(self.mapping_row(target, false, "", &attributes));
            }
        }
        for row in &mut rows {
            row.expanded = expanded.contains(&row.target);
        }
        self.configure.mapping = rows;
    }

    /// One pulldown per template parameter, over the dataset's attributes, on the value in the
    /// destination or else the template's default.
    fn parameter_widgets(&self, attributes: &[String]) -> Vec<(String, Pulldown)> {
        let (Some(template), Some(reference)) = (self.template(), self.dest.template.as_ref())
        else {
            return Vec::new();
        };
        template
            .parameters
            .iter()
            .map(|parameter| {
                let current = template
                    .parameter(reference, &parameter.name)
                    .unwrap_or_else(|| parameter.default.clone());
                let mut options: Vec<String> = attributes.to_vec();
                for extra in [&parameter.default, &current] {
                    if !options.contains(extra) {
                        options.insert(0, extra.clone());
                    }
                }
                let selected = options.iter().position(|o| *o == current).unwrap_or(0);
                (parameter.name.clone(), Pulldown::new(options, selected))
            })
            .collect()
    }

    fn mapping_row(
        &self,
        target: &str,
        required: bool,
        description: &str,
        attributes: &[String],
    ) -> MappingRow {
        let entry = self.dest.mapping.iter().find(|m| m.target == target);
        let mut sources = vec!["(not set)".to_string()];
        sources.extend(attributes.iter().cloned());
        // An attribute the file names but the dataset lacks is still shown, not silently dropped.
        if let Some(from) = entry.and_then(|e| e.from.clone())
            && !sources.contains(&from)
        {
            sources.push(from);
        }
        sources.push(CONSTANT.into());
        let selected = match entry {
            None => 0,
            Some(e) => match (&e.from, &e.value) {
                (Some(from), _) => sources.iter().position(|s| s == from).unwrap_or(0),
                (None, Some(_)) => sources.len() - 1,
                _ => 0,
            },
        };
        let constant = entry
            .and_then(|e| e.value.as_ref())
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default();
        let transform = entry
            .map(|e| {
                Transform::ALL
                    .iter()
                    .position(|t| *t == e.transform)
                    .unwrap_or(0)
            })
            .unwrap_or(0);
        let mut conditions = vec![ALWAYS.to_string()];
        conditions.extend(attributes.iter().cloned());
        let condition = entry.and_then(|e| e.if_present.clone());
        if let Some(condition) = &condition
            && !conditions.contains(condition)
        {
            conditions.push(condition.clone());
        }
        let condition = condition
            .and_then(|c| conditions.iter().position(|o| *o == c))
            .unwrap_or(0);
        let countries: Vec<String> = crate::request::phone::countries()
            .map(|iso| {
                let code = crate::request::phone::country_code(iso).unwrap_or("");
                format!("{iso} +{code}")
            })
            .collect();
        let country = entry
            .and_then(|e| e.default_country.as_deref())
            .unwrap_or("US");
        let country = countries
            .iter()
            .position(|c| country_of(c).eq_ignore_ascii_case(country))
            .unwrap_or(0);
        MappingRow {
            target: target.to_string(),
            required,
            description: description.to_string(),
            is_field: false,
            sub_entries: 0,
            source: Pulldown::new(sources, selected),
            constant: TextInput::new(constant),
            transform: Pulldown::new(options(&Transform::ALL, Transform::as_str), transform),
            expanded: false,
            optional: Checkbox::new(
                "leave unset if the attribute is empty",
                entry.is_some_and(|e| e.optional),
            ),
            if_present: Pulldown::new(conditions, condition),
            country: Pulldown::new(countries, country),
            guessed_from: entry.and_then(|e| self.guessed_column(e)),
        }
    }

    /// The column `entry` reads when it is still the suggestion's guess by likeness of names.
    fn guessed_column(&self, entry: &FieldMapping) -> Option<String> {
        let column = entry.from.as_deref()?;
        if !self.suggested_mapping.as_ref()?.contains(entry) {
            return None;
        }
        let suggestion = self
            .resource()?
            .suggest
            .iter()
            .find(|s| s.target == entry.target)?;
        (!crate::templates::columns::spelt_as_known(suggestion, column)).then(|| column.to_string())
    }

    /// Writes mapping row `index` back into the destination's mapping, touching only that entry.
    pub fn apply_mapping_row(&mut self, index: usize) {
        let Some(row) = self.configure.mapping.get(index) else {
            return;
        };
        let label = row.source.selected_label().to_string();
        let transform = Transform::ALL
            .get(row.transform.selected())
            .copied()
            .unwrap_or_default();
        let position = self
            .dest
            .mapping
            .iter()
            .position(|m| m.target == row.target);
        if row.source.selected() == 0 {
            if let Some(at) = position {
                self.dest.mapping.remove(at);
            }
            return;
        }
        let constant = label == CONSTANT;
        let entry = match position {
            Some(at) => &mut self.dest.mapping[at],
            None => {
                self.dest.mapping.push(FieldMapping {
                    target: row.target.clone(),
                    from: None,
                    value: None,
                    transform: Transform::None,
                    default_country: None,
                    phone_check: Default::default(),
                    optional: false,
                    if_present: None,
                });
                self.dest.mapping.last_mut().expect("just pushed")
            }
        };
        if constant {
            entry.from = None;
            entry.value = Some(toml::Value::String(row.constant.value().to_string()));
        } else {
            entry.value = None;
            entry.from = Some(label);
        }
        entry.transform = transform;
    }

    /// The destination's entry for mapping row `index`, when it has one.
    pub fn mapping_entry_mut(&mut self, index: usize) -> Option<&mut FieldMapping> {
        let target = self.configure.mapping.get(index)?.target.clone();
        self.dest.mapping.iter_mut().find(|m| m.target == target)
    }
}

/// The mapping after a change of endpoint or resource (see [`carry_mapping`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Carried {
    pub mapping: Vec<FieldMapping>,
    /// Targets of the person's entries that stayed.
    pub kept: Vec<String>,
    /// Targets of the person's entries the new resource has no field for.
    pub dropped: Vec<String>,
}

impl Carried {
    /// What to tell the person, when any of their entries was kept or dropped.
    pub fn notice(&self, resource: &str) -> Option<(Level, String)> {
        let list = |targets: &[String]| targets.join(", ");
        match (self.kept.is_empty(), self.dropped.is_empty()) {
            (true, true) => None,
            (false, true) => Some((
                Level::Info,
                format!("kept your mapping entries: {}", list(&self.kept)),
            )),
            (nothing_kept, false) => Some((
                Level::Error,
                format!(
                    "dropped your mapping entr{} for {}: {resource} has no such field{}",
                    if self.dropped.len() == 1 { "y" } else { "ies" },
                    list(&self.dropped),
                    if nothing_kept {
                        String::new()
                    } else {
                        format!("; kept {}", list(&self.kept))
                    }
                ),
            )),
        }
    }
}

/// The mapping for a newly chosen resource: the person's own entries (those not in
/// `suggested_before`, the suggestion they started from) stay when the resource has their field
/// (any field when it lists none: a custom path), and the new `suggestion` fills the rest. An
/// entry of the suggestion that would set the same field as one of theirs (the whole field
/// against a part of it) gives way.
pub fn carry_mapping(
    current: &[FieldMapping],
    suggested_before: Option<&[FieldMapping]>,
    suggestion: Vec<FieldMapping>,
    fields: &[crate::templates::FieldSpec],
) -> Carried {
    let theirs = current
        .iter()
        .filter(|m| !suggested_before.is_some_and(|before| before.contains(m)));
    let has_field =
        |target: &str| fields.is_empty() || fields.iter().any(|f| f.name == top_level(target));
    let (kept, dropped): (Vec<&FieldMapping>, Vec<&FieldMapping>) =
        theirs.partition(|m| has_field(&m.target));
    let overlaps = |a: &str, b: &str| {
        a == b || (top_level(a) == top_level(b) && (top_level(a) == a || top_level(b) == b))
    };
    let mut mapping: Vec<FieldMapping> = Vec::with_capacity(suggestion.len() + kept.len());
    let mut placed = vec![false; kept.len()];
    for entry in suggestion {
        match kept.iter().position(|k| k.target == entry.target) {
            Some(at) => {
                mapping.push(kept[at].clone());
                placed[at] = true;
            }
            None if kept.iter().any(|k| overlaps(&k.target, &entry.target)) => {}
            None => mapping.push(entry),
        }
    }
    for (entry, placed) in kept.iter().zip(placed) {
        if !placed {
            mapping.push((*entry).clone());
        }
    }
    Carried {
        mapping,
        kept: kept.iter().map(|m| m.target.clone()).collect(),
        dropped: dropped.iter().map(|m| m.target.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(target: &str, attribute: &str) -> FieldMapping {
        FieldMapping {
            target: target.into(),
            from: Some(attribute.into()),
            value: None,
            transform: Transform::None,
            default_country: None,
            phone_check: Default::default(),
            optional: false,
            if_present: None,
        }
    }

    fn users_fields() -> Vec<crate::templates::FieldSpec> {
        crate::templates::get("create_records")
            .and_then(|t| t.resource("users"))
            .map(|r| r.fields.clone())
            .expect("the users resource")
    }

    #[test]
    fn the_persons_entries_stay_where_the_new_resource_has_their_field() {
        let suggested = vec![
            from("first_name", "First Name"),
            from("emails[0].value", "Email"),
        ];
        let mut current = suggested.clone();
        current[0] = from("first_name", "Last Name"); // changed by the person
        current.push(from("information", "Customer Id")); // added by the person
        let suggestion = vec![
            from("email", "Email"),
            from("first_name", "First Name"),
            from("last_name", "Last Name"),
        ];
        let carried = carry_mapping(&current, Some(&suggested), suggestion, &users_fields());
        assert_eq!(
            carried.mapping,
            [
                from("email", "Email"),
                from("first_name", "Last Name"),
                from("last_name", "Last Name")
            ]
        );
        assert_eq!(carried.kept, ["first_name"]);
        assert_eq!(
            carried.dropped,
            ["information"],
            "users have no information field"
        );
        let (_, text) = carried.notice("Users").expect("a notice");
        assert!(
            text.contains("information: Users has no such field"),
            "{text}"
        );
        assert!(text.contains("kept first_name"), "{text}");
    }

    #[test]
    fn an_untouched_suggestion_is_replaced_and_a_whole_field_of_theirs_wins() {
        let suggested = vec![from("first_name", "First Name")];
        let current = vec![
            from("first_name", "First Name"),
            from("phone_numbers", "Phones"),
        ];
        let suggestion = vec![
            from("phone_numbers[0].value", "Phone 1"),
            from("first_name", "First Name"),
        ];
        let carried = carry_mapping(&current, Some(&suggested), suggestion, &[]);
        assert_eq!(
            carried.mapping,
            [
                from("first_name", "First Name"),
                from("phone_numbers", "Phones")
            ]
        );
        assert!(carried.dropped.is_empty());
        // Nothing of theirs: nothing to say.
        let carried = carry_mapping(&suggested, Some(&suggested), Vec::new(), &[]);
        assert_eq!(carried.notice("Users"), None);
        assert!(carried.mapping.is_empty());
    }
}
