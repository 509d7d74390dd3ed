//! The network document: a network of organisations and its meetings.

use std::collections::BTreeMap;

use automerge::ActorId;

use super::activity::typed_keys;
use super::{MAX_NAME, MAX_TEXT, limit_text, require_text};
use crate::document::{Author, NaboDoc, Scope, read_all, read_one, typed_doc, write_record};
use crate::error::{Reason, Result, invalid};
use crate::ids::{ActionId, MeetingId, NetworkId, OrgId, TenantId};
use crate::model::network::{Membership, Network, NetworkMeeting, NetworkRole};

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
        check_network(&n)?;
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
        check_network(&n)?;
        self.doc.write(author, "update-network", |tx| {
            autosurgeon::reconcile_prop(tx, automerge::ROOT, "network", &n)?;
            Ok(())
        })
    }

    /// Records a meeting. Attendees must be members; actions need text, an owner among the
    /// members and a due date not before the meeting.
    pub fn record_meeting(&mut self, author: &Author, m: NetworkMeeting) -> Result<MeetingId> {
        check_meeting(&self.network()?, &m)?;
        let id = MeetingId::random();
        self.doc.write(author, "record-meeting", |tx| {
            write_record(tx, "meetings", id.as_str(), &m)
        })?;
        Ok(id)
    }

    /// Adds an organisation to the network, or changes its role and the function of the
    /// person it sends.
    pub fn set_member(&mut self, author: &Author, org: &OrgId, m: Membership) -> Result<()> {
        let mut n = self.network()?;
        n.members.insert(org.clone());
        n.roles.insert(org.clone(), m);
        check_network(&n)?;
        self.doc.write(author, "set-member", |tx| {
            autosurgeon::reconcile_prop(tx, automerge::ROOT, "network", &n)?;
            Ok(())
        })
    }

    /// Takes an organisation out of the network (its past meetings keep naming it). Adding
    /// it again with [`NetworkDoc::set_member`] undoes this.
    pub fn remove_member(&mut self, author: &Author, org: &OrgId) -> Result<()> {
        let mut n = self.network()?;
        if !n.members.contains(org) {
            return invalid("member", Reason::NotFound, "not a member of the network");
        }
        n.members.0.remove(org);
        n.roles.remove(org);
        self.doc.write(author, "remove-member", |tx| {
            autosurgeon::reconcile_prop(tx, automerge::ROOT, "network", &n)?;
            Ok(())
        })
    }

    /// Marks an agreed action done.
    pub fn complete_action(
        &mut self,
        author: &Author,
        meeting: &MeetingId,
        action: &ActionId,
    ) -> Result<()> {
        self.set_action_done(author, meeting, action, true)
    }

    /// Marks an agreed action done (on the author's day, by the author) or open again.
    pub fn set_action_done(
        &mut self,
        author: &Author,
        meeting: &MeetingId,
        action: &ActionId,
        done: bool,
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
        if a.done == done {
            return invalid(
                "done",
                Reason::Inconsistent,
                if done {
                    "the action is done already"
                } else {
                    "the action is open already"
                },
            );
        }
        a.done = done;
        a.done_on = done.then(|| author.at.date_dk());
        a.done_by = Some(author.by.clone());
        self.doc.write(author, "set-action-done", |tx| {
            write_record(tx, "meetings", meeting.as_str(), &m)
        })
    }

    /// Meetings.
    pub fn meetings(&self) -> Result<BTreeMap<MeetingId, NetworkMeeting>> {
        typed_keys(read_all(self.doc.automerge(), "meetings")?)
    }
}

/// What a network must satisfy: a name, a short cadence, roles only for members, short
/// functions.
pub(crate) fn check_network(n: &Network) -> Result<()> {
    require_text("name", &n.name, MAX_NAME)?;
    limit_text("cadence", &n.cadence, MAX_NAME)?;
    for (org, m) in n.roles.iter() {
        if !n.members.contains(org) {
            return invalid(
                "roles",
                Reason::NotFound,
                "a role for an organisation that is not a member",
            );
        }
        limit_text("function", &m.function, MAX_NAME)?;
    }
    Ok(())
}

/// What a meeting must satisfy against its network.
pub(crate) fn check_meeting(n: &Network, m: &NetworkMeeting) -> Result<()> {
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
        if a.due.is_some_and(|d| d < m.date) {
            return invalid("due", Reason::EndBeforeStart, "due before the meeting");
        }
    }
    Ok(())
}

/// Whether a network has a convener among its members (the page warns when none).
pub fn has_convener(n: &Network) -> bool {
    n.roles.values().any(|m| m.role == NetworkRole::Convener)
}
