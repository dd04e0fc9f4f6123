//! The Configure step's widgets (template, request, batching, capture and the typed sections), loaded from the destination.

use super::*;

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigureForm {
    pub tabs: Tabs,
    pub endpoint: Pulldown,
    pub resource: Pulldown,
    pub custom_path: TextInput,
    /// Template parameters: name and the attribute chosen.
    pub parameters: Vec<(String, Pulldown)>,
    pub mapping: Vec<MappingRow>,
    /// Targets added on the form that have no source yet (so not in the destination).
    pub added_targets: Vec<String>,
    pub add_target: TextInput,
    /// Method, content format, URL, headers and exclusions.
    pub request: crate::tui::sections::request::Request,
    pub batching: Checkbox,
    pub batch_size: TextInput,
    pub algorithm: Pulldown,
    pub wrap_key: TextInput,
    pub group_by: TextInput,
    pub group_shape: Pulldown,
    pub pluck: TextInput,
    pub capture_file: TextInput,
    pub webhook: TextInput,
    pub delivery: Section,
    /// Per-field problems in what was typed (kept out of the destination until fixed).
    pub errors: Vec<(Field, String)>,
}

impl ConfigureForm {
    /// The sections made of typed settings, in the order they appear.
    pub fn sections(&self) -> [&Section; 1] {
        [&self.delivery]
    }

    pub fn section_of(&self, id: SettingId) -> Option<&Section> {
        self.sections().into_iter().find(|s| s.get(id).is_some())
    }

    pub fn setting(&self, id: SettingId) -> Option<&Setting> {
        self.section_of(id)?.get(id)
    }

    pub fn setting_mut(&mut self, id: SettingId) -> Option<&mut Setting> {
        [&mut self.delivery].into_iter().find_map(|s| s.get_mut(id))
    }
}

impl Model {
    /// Sets every step-2 widget from the destination (at start, and after a template change
    /// rewrote the request settings).
    pub fn load_configure_widgets(&mut self) {
        let dest = &self.dest;
        let form = &mut self.configure;
        let mut endpoints: Vec<String> = crate::templates::all()
            .iter()
            .map(|t| t.name.clone())
            .collect();
        endpoints.push(MANUAL_ENDPOINT.into());
        let endpoint = match &dest.template {
            Some(t) => crate::templates::all()
                .iter()
                .position(|x| x.id == t.id)
                .unwrap_or(endpoints.len() - 1),
            None => endpoints.len() - 1,
        };
        form.endpoint = Pulldown::new(endpoints, endpoint);
        let template = dest
            .template
            .as_ref()
            .and_then(|t| crate::templates::get(&t.id));
        let mut resources: Vec<String> = template
            .map(|t| t.resources.iter().map(|r| r.name.clone()).collect())
            .unwrap_or_default();
        if template.is_some() {
            resources.push(CUSTOM_RESOURCE.into());
        }
        let resource = match (&dest.template, template) {
            (Some(reference), Some(t)) => t
                .resources
                .iter()
                .position(|r| r.id == reference.resource)
                .unwrap_or(resources.len() - 1),
            _ => 0,
        };
        form.resource = Pulldown::new(resources, resource);
        form.custom_path.set_value(
            dest.template
                .as_ref()
                .and_then(|t| t.custom_path.clone())
                .unwrap_or_default(),
        );
        form.request.load(dest);
        form.batching.checked = dest.batching.enabled;
        form.batch_size
            .set_value(dest.batching.max_records.to_string());
        form.algorithm.select(
            Algorithm::ALL
                .iter()
                .position(|a| *a == dest.batching.algorithm)
                .unwrap_or(0),
        );
        form.wrap_key.set_value(dest.batching.wrap_key.clone());
        form.group_by
            .set_value(dest.batching.group_by.clone().unwrap_or_default());
        form.group_shape
            .select(if dest.batching.group_shape == GroupShape::Wrap {
                1
            } else {
                0
            });
        form.pluck
            .set_value(dest.batching.pluck.clone().unwrap_or_default());
        form.capture_file.set_value(
            dest.capture
                .file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        );
        form.webhook
            .set_value(dest.capture.webhook_url.clone().unwrap_or_default());
        form.delivery.load(dest);
        form.errors.clear();
        self.refresh_attribute_widgets();
    }
}
