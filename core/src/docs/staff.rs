//! The staff directory: staff members, their placement periods and their role assignments.
//! Central staff only.

use std::collections::BTreeMap;

use automerge::ActorId;

use super::activity::typed_keys;
use super::{MAX_NAME, limit_text, require_text};
use crate::document::{Author, NaboDoc, Scope, read_all, read_one, typed_doc, write_record};
use crate::error::{Reason, Result, invalid};
use crate::ids::{AssignmentId, PlacementId, StaffId, TenantId};
use crate::model::PlacementKind;
use crate::model::staff::{Placement, RoleAssignment, StaffMember};
use crate::time::Date;

/// The staff directory.
#[derive(Debug, Clone)]
pub struct StaffDoc {
    doc: NaboDoc,
}
typed_doc!(StaffDoc, crate::document::DocKind::Staff);

fn check_placement(p: &Placement) -> Result<()> {
    if p.to.is_some_and(|t| t < p.from) {
        return invalid(
            "to",
            Reason::EndBeforeStart,
            "the placement ends before it starts",
        );
    }
    for d in p.days.values() {
        match d.kind {
            PlacementKind::Local if d.area.is_none() => {
                return invalid("area", Reason::Missing, "a local day needs its area");
            }
            PlacementKind::Mix => {
                return invalid(
                    "kind",
                    Reason::Inconsistent,
                    "a single day is local or central",
                );
            }
            _ => {}
        }
    }
    Ok(())
}

impl StaffDoc {
    /// Creates the staff directory of a tenant.
    pub fn create(tenant: TenantId, actor: ActorId) -> Result<Self> {
        Ok(StaffDoc {
            doc: NaboDoc::create(Scope::Staff { tenant }, actor)?,
        })
    }

    /// Adds or updates a staff member.
    pub fn put_staff(&mut self, author: &Author, id: &StaffId, s: StaffMember) -> Result<()> {
        require_text("name", &s.name, MAX_NAME)?;
        limit_text("title", &s.title, MAX_NAME)?;
        for p in s.placements.values() {
            check_placement(p)?;
        }
        self.doc.write(author, "put-staff", |tx| {
            write_record(tx, "staff", id.as_str(), &s)
        })
    }

    /// Records that a staff member left on `left` (their login closed: not active), or, with
    /// `None`, that they are employed again (their login opened). An erased staff member is
    /// refused (`staff`, `erased`): erasure is final.
    pub fn set_left(&mut self, author: &Author, id: &StaffId, left: Option<Date>) -> Result<()> {
        let mut s = self.staff_member(id)?;
        if s.erased.is_some() {
            return invalid("staff", Reason::Erased, "the staff member is erased");
        }
        if s.left == left && s.active == left.is_none() {
            return Ok(());
        }
        s.left = left;
        s.active = left.is_none();
        self.doc.write(author, "set-staff-left", |tx| {
            write_record(tx, "staff", id.as_str(), &s)
        })
    }

    /// Marks a staff member erased (ADR 0019): name and title go, in every concurrent
    /// version; `false` when the record was erased already.
    pub fn erase_staff(&mut self, author: &Author, id: &StaffId, on: Date) -> Result<bool> {
        let records = crate::erasure::erased_records(
            self.doc.automerge(),
            "staff",
            [id],
            ("staff", "no such staff member"),
            |s: &StaffMember| crate::erasure::erased_staff(s, on),
        )?;
        Ok(self
            .doc
            .write_records(author, "erase-staff", "staff", &records)?
            > 0)
    }

    /// A staff member.
    pub fn staff_member(&self, id: &StaffId) -> Result<StaffMember> {
        match read_one::<_, StaffMember>(self.doc.automerge(), "staff", id.as_str())? {
            Some(v) => Ok(v.current),
            None => invalid("staff", Reason::NotFound, "no such staff member"),
        }
    }

    /// Staff.
    pub fn staff(&self) -> Result<BTreeMap<StaffId, StaffMember>> {
        typed_keys(read_all(self.doc.automerge(), "staff")?)
    }

    /// Moves a staff member to a new placement from `from`: the open placement ends the day
    /// before, so records made earlier stay with the old area.
    pub fn move_placement(
        &mut self,
        author: &Author,
        id: &StaffId,
        from: Date,
        placement: Placement,
    ) -> Result<PlacementId> {
        check_placement(&placement)?;
        if placement.from != from {
            return invalid(
                "from",
                Reason::Inconsistent,
                "the new placement starts on the move date",
            );
        }
        let mut s = self.staff_member(id)?;
        for p in s.placements.values_mut() {
            if p.to.is_none_or(|t| t >= from) {
                if p.from >= from {
                    return invalid(
                        "from",
                        Reason::Inconsistent,
                        "overlaps a placement that starts on or after the move",
                    );
                }
                p.to = Some(from.add_days(-1));
            }
        }
        let pid = PlacementId::random();
        s.placements.insert(pid.clone(), placement);
        self.doc.write(author, "move-placement", |tx| {
            write_record(tx, "staff", id.as_str(), &s)
        })?;
        Ok(pid)
    }

    /// The placement on a date.
    pub fn placement_on(&self, id: &StaffId, date: Date) -> Result<Option<Placement>> {
        Ok(self
            .staff_member(id)?
            .placements
            .values()
            .find(|p| p.covers(date))
            .cloned())
    }

    /// Assigns a role (one of the eight of S000 and/or one of the four practice roles of S004).
    pub fn assign_role(&mut self, author: &Author, a: RoleAssignment) -> Result<AssignmentId> {
        if a.role.is_none() && a.practice_role.is_none() {
            return invalid(
                "role",
                Reason::Missing,
                "a role or a practice role is required",
            );
        }
        if a.to.is_some_and(|t| t < a.from) {
            return invalid("to", Reason::EndBeforeStart, "ends before it starts");
        }
        self.staff_member(&a.staff)?;
        let id = AssignmentId::random();
        self.doc.write(author, "assign-role", |tx| {
            write_record(tx, "assignments", id.as_str(), &a)
        })?;
        Ok(id)
    }

    /// Ends a role assignment on `to`.
    pub fn end_assignment(&mut self, author: &Author, id: &AssignmentId, to: Date) -> Result<()> {
        let Some(v) =
            read_one::<_, RoleAssignment>(self.doc.automerge(), "assignments", id.as_str())?
        else {
            return invalid("assignment", Reason::NotFound, "no such assignment");
        };
        let mut a = v.current;
        if to < a.from {
            return invalid("to", Reason::EndBeforeStart, "ends before it starts");
        }
        a.to = Some(to);
        self.doc.write(author, "end-assignment", |tx| {
            write_record(tx, "assignments", id.as_str(), &a)
        })
    }

    /// Role assignments.
    pub fn assignments(&self) -> Result<BTreeMap<AssignmentId, RoleAssignment>> {
        typed_keys(read_all(self.doc.automerge(), "assignments")?)
    }
}
