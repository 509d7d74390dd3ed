//! What the relay records about a document: its scope fields for access decisions and a
//! human title (Danish), derived from the document itself.

use automerge::ReadDoc;
use nabo_core::document::{NaboDoc, Scope};

use crate::storage::{DocMeta, Storage, StorageError};

/// The Danish name of a term: "forår 2026" / "efterår 2026".
pub fn term_da(term: nabo_core::time::Term) -> String {
    format!(
        "{} {}",
        if term.half == 1 { "forår" } else { "efterår" },
        term.year
    )
}

/// A string field of a map: a scalar string, or text written by a JavaScript client.
fn text_field(am: &automerge::Automerge, obj: &automerge::ObjId, field: &str) -> Option<String> {
    match am.get(obj, field).ok()?? {
        (automerge::Value::Scalar(s), _) => s.as_str().map(str::to_owned),
        (automerge::Value::Object(automerge::ObjType::Text), id) => am.text(&id).ok(),
        _ => None,
    }
}

fn activity_record_field(doc: &NaboDoc, field: &str) -> Option<String> {
    let am = doc.automerge();
    let (_, obj) = am.get(automerge::ROOT, "activity").ok()??;
    text_field(am, &obj, field)
}

fn info_field(doc: &NaboDoc, field: &str) -> Option<String> {
    let am = doc.automerge();
    let (_, obj) = am.get(automerge::ROOT, "info").ok()??;
    text_field(am, &obj, field)
}

fn network_name(doc: &NaboDoc) -> Option<(String, Option<String>)> {
    let am = doc.automerge();
    let (_, obj) = am.get(automerge::ROOT, "network").ok()??;
    Some((
        text_field(am, &obj, "name")?,
        text_field(am, &obj, "leader"),
    ))
}

/// Derives the registry entry of a document. Looks up the activity's title for registers.
pub async fn derive(doc: &NaboDoc, storage: &dyn Storage) -> Result<DocMeta, StorageError> {
    let scope = doc.scope().clone();
    let mut meta = DocMeta {
        id: doc.id(),
        tenant: scope.tenant().clone(),
        kind: doc.kind(),
        scope: scope.to_string(),
        activity: None,
        area: None,
        worker: None,
        network: None,
        programme: None,
        title: String::new(),
    };
    match &scope {
        Scope::Tenant { .. } => meta.title = "Organisation, boligområder og programmer".into(),
        Scope::Staff { .. } => meta.title = "Medarbejdere".into(),
        Scope::Volunteers { .. } => meta.title = "Frivillige".into(),
        Scope::Activity { activity, .. } => {
            meta.activity = Some(activity.to_string());
            meta.area = activity_record_field(doc, "area");
            meta.programme = activity_record_field(doc, "programme");
            meta.title = activity_record_field(doc, "name").unwrap_or_else(|| "Aktivitet".into());
        }
        Scope::Register {
            tenant,
            activity,
            term,
        } => {
            meta.activity = Some(activity.to_string());
            let act = storage
                .document_by_scope(&format!("activity/{tenant}/{activity}"))
                .await?;
            meta.area = info_field(doc, "area");
            if meta.area.is_none() {
                meta.area = act.as_ref().and_then(|a| a.area.clone());
            }
            meta.programme = act.as_ref().and_then(|a| a.programme.clone());
            let name = act.map_or_else(|| "aktivitet".to_string(), |a| a.title);
            meta.title = format!("Fremmøde: {name}, {}", term_da(*term));
        }
        Scope::Outreach {
            worker,
            area,
            quarter,
            ..
        } => {
            meta.worker = Some(worker.to_string());
            meta.area = Some(area.to_string());
            meta.title = format!("Opsøgende log, {}. kvartal {}", quarter.q, quarter.year);
        }
        Scope::ResidentLog {
            tenant,
            activity,
            term,
        } => {
            meta.activity = Some(activity.to_string());
            let act = storage
                .document_by_scope(&format!("activity/{tenant}/{activity}"))
                .await?;
            meta.area = act.as_ref().and_then(|a| a.area.clone());
            meta.programme = act.as_ref().and_then(|a| a.programme.clone());
            let name = act.map_or_else(|| "aktivitet".to_string(), |a| a.title);
            meta.title = format!("Beboerdrevet: {name}, {}", term_da(*term));
        }
        Scope::Network { network, .. } => {
            meta.network = Some(network.to_string());
            let (name, leader) = network_name(doc).unwrap_or(("Netværk".into(), None));
            meta.title = name;
            meta.worker = leader;
        }
    }
    if meta.title.is_empty() {
        meta.title = doc.kind().code().into();
    }
    Ok(meta)
}
