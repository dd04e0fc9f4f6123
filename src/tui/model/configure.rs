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
    pub batching: Section,
    pub capture: Section,
    pub delivery: Section,
    pub sync: Section,
    /// On the save step: when the daemon runs the destination.
    pub schedule: Section,
    /// What a sync run would do with each sample, judged against the state file.
    pub sync_preview: SyncPreview,
    /// Per-field problems in what was typed (kept out of the destination until fixed).
    pub errors: Vec<(Field, String)>,
}

/// The sync's verdict on the samples (background work: it reads the state file).
#[derive(Debug, Clone, PartialEq)]
pub enum SyncPreview {
    Off,
    Working(TaskId),
    Ready(crate::tui::sections::sync::SampleOperations),
    Failed(String),
}

impl ConfigureForm {
    /// The sections made of typed settings, in the order they appear.
    pub fn sections(&self) -> [&Section; 5] {
        [
            &self.batching,
            &self.capture,
            &self.delivery,
            &self.sync,
            &self.schedule,
        ]
    }

    /// The sections of the Advanced tab, in order.
    pub fn advanced_sections(&self) -> [&Section; 4] {
        [&self.batching, &self.capture, &self.delivery, &self.sync]
    }

    pub fn section_mut_of(&mut self, id: SettingId) -> Option<&mut Section> {
        [
            &mut self.batching,
            &mut self.capture,
            &mut self.delivery,
            &mut self.sync,
            &mut self.schedule,
        ]
        .into_iter()
        .find(|s| s.get(id).is_some())
    }

    pub fn section_of(&self, id: SettingId) -> Option<&Section> {
        self.sections().into_iter().find(|s| s.get(id).is_some())
    }

    pub fn setting(&self, id: SettingId) -> Option<&Setting> {
        self.section_of(id)?.get(id)
    }

    pub fn setting_mut(&mut self, id: SettingId) -> Option<&mut Setting> {
        self.section_mut_of(id)?.get_mut(id)
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
        form.batching.load(dest);
        form.capture.load(dest);
        form.sync.load(dest);
        form.schedule.load(dest);
        form.delivery.load(dest);
        form.errors.clear();
        self.refresh_attribute_widgets();
        self.refresh_sync_keys();
    }

    /// Offers the dataset's attributes as the sync key, those unique in the sample first.
    pub fn refresh_sync_keys(&mut self) {
        let suggestions = match &self.source.dataset {
            Some(dataset) => {
                crate::tui::sections::sync::key_suggestions(&dataset.attributes, &dataset.samples)
            }
            None => Vec::new(),
        };
        if let Some(key) = self.configure.sync.get_mut(crate::tui::sections::sync::KEY) {
            key.offer(suggestions, &self.dest);
        }
    }
}
