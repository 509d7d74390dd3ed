//! The network document: a network of organisations and its meetings.

use std::collections::BTreeMap;

use automerge::ActorId;

use super::activity::typed_keys;
use super::{MAX_NAME, MAX_TEXT, limit_text, require_text};
use crate::document::{Author, NaboDoc, Scope, read_all, read_one, typed_doc, write_record};
use crate::error::{Reason, Result, invalid};
use crate::ids::{ActionId, MeetingId, NetworkId, TenantId};
use crate::model::network::{Network, NetworkMeeting};

/// The network document.
#[derive(Debug, Clone)]
pub struct NetworkDoc {
    doc: NaboDoc,
}
typed_doc!(NetworkDoc, crate::document::DocKind::Network);

impl NetworkDoc {
    /// Creates a network.
    pub fn create(
        tenant: TenantId,
        network: NetworkId,
        actor: ActorId,
        author: &Author,
        n: Network,
    ) -> Result<Self> {
        require_text("name", &n.name, MAX_NAME)?;
        limit_text("cadence", &n.cadence, MAX_NAME)?;
        let mut doc = NaboDoc::create(Scope::Network { tenant, network }, actor)?;
        doc.write(author, "create-network", |tx| {
            autosurgeon::reconcile_prop(tx, automerge::ROOT, "network", &n)?;
            Ok(())
        })?;
        Ok(NetworkDoc { doc })
    }

    /// The network record.
    pub fn network(&self) -> Result<Network> {
        Ok(autosurgeon::hydrate_prop(
            self.doc.automerge(),
            automerge::ROOT,
            "network",
        )?)
    }

    /// Updates the network record.
    pub fn update(&mut self, author: &Author, f: impl FnOnce(&mut Network)) -> Result<()> {
        let mut n = self.network()?;
        f(&mut n);
        require_text("name", &n.name, MAX_NAME)?;
        self.doc.write(author, "update-network", |tx| {
            autosurgeon::reconcile_prop(tx, automerge::ROOT, "network", &n)?;
            Ok(())
        })
    }

    /// Records a meeting. Attendees must be members; actions need text.
    pub fn record_meeting(&mut self, author: &Author, m: NetworkMeeting) -> Result<MeetingId> {
        let n = self.network()?;
        if m.attendees.iter().any(|o| !n.members.contains(o)) {
            return invalid(
                "attendees",
                Reason::NotFound,
                "an attendee is not a member of the network",
            );
        }
        limit_text("agenda", &m.agenda, MAX_TEXT)?;
        for a in m.actions.values() {
            require_text("actions", &a.text, MAX_NAME)?;
            if a.owner.as_ref().is_some_and(|o| !n.members.contains(o)) {
                return invalid(
                    "actions",
                    Reason::NotFound,
                    "the action's owner is not a member",
                );
            }
        }
        let id = MeetingId::random();
        self.doc.write(author, "record-meeting", |tx| {
            write_record(tx, "meetings", id.as_str(), &m)
        })?;
        Ok(id)
    }

    /// Marks an agreed action done.
    pub fn complete_action(
        &mut self,
        author: &Author,
        meeting: &MeetingId,
        action: &ActionId,
    ) -> Result<()> {
        let Some(v) =
            read_one::<_, NetworkMeeting>(self.doc.automerge(), "meetings", meeting.as_str())?
        else {
            return invalid("meeting", Reason::NotFound, "no such meeting");
        };
        let mut m = v.current;
        let Some(a) = m.actions.get_mut(action) else {
            return invalid("action", Reason::NotFound, "no such action");
        };
        a.done = true;
        self.doc.write(author, "complete-action", |tx| {
            write_record(tx, "meetings", meeting.as_str(), &m)
        })
    }

    /// Meetings.
    pub fn meetings(&self) -> Result<BTreeMap<MeetingId, NetworkMeeting>> {
        typed_keys(read_all(self.doc.automerge(), "meetings")?)
    }
}
