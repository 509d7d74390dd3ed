//! What resident volunteers log on their phones (stories 16 and 17, ADR 0030): an
//! ambassador round's doorstep conversations by topic and a food club's evening, counts
//! only, into the activity's resident log for the term — created on this phone when it is
//! the term's first record (every phone creates the same skeleton), durable before the call
//! returns, and sent with the next sync.

use nabo_core::docs::resident::{NewEvening, NewRound, ResidentLogDoc};
use nabo_core::prelude::*;
use nabo_core::store::Handle;

use crate::api;
use crate::client::{Account, Inner, NaboClient, on_runtime, parse};
use crate::error::Result;
use crate::runtime::run;

impl Inner {
    /// The resident log of `activity` for the term of `date`, created on this device if it
    /// is not here yet.
    async fn resident_log(
        &self,
        a: &Account,
        activity: &ActivityId,
        date: Date,
    ) -> Result<Handle<ResidentLogDoc>> {
        let tenant: TenantId = parse("tenant", &a.tenant)?;
        let term = Term::of(date);
        let id = self
            .doc_id(&Scope::ResidentLog {
                tenant: tenant.clone(),
                activity: activity.clone(),
                term,
            })
            .await?;
        if let Some(h) = Handle::open(&self.store, id, self.actor.clone()).await? {
            return Ok(h);
        }
        let doc = ResidentLogDoc::create(tenant, activity.clone(), term, self.actor.clone())?;
        Ok(Handle::create(&self.store, doc).await?)
    }

    /// The activity (it must be on this phone: the user's own) and the area a record is
    /// logged in: the given one, or the activity's.
    async fn resident_area(
        &self,
        a: &Account,
        activity: &ActivityId,
        area: Option<&str>,
    ) -> Result<AreaId> {
        let tenant: TenantId = parse("tenant", &a.tenant)?;
        let act = self.activity(&tenant, activity).await?;
        match area {
            Some(s) => parse("area_id", s),
            None => Ok(act.activity()?.current.area),
        }
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl NaboClient {
    /// Logs an ambassador round (story 16): the number of doorstep conversations per topic,
    /// no names. Returns the round's reference.
    pub async fn log_round(&self, input: api::RoundInput) -> Result<String> {
        on_runtime!(self, |inner| {
            let a = inner.account()?;
            let tenant: TenantId = parse("tenant", &a.tenant)?;
            let activity: ActivityId = parse("activity_id", &input.activity_id)?;
            let date: Date = parse("date", &input.date)?;
            let area = inner
                .resident_area(&a, &activity, input.area_id.as_deref())
                .await?;
            let author = inner.author(&a)?;
            let cat = inner.catalogue(&tenant).await?;
            let round = NewRound {
                date,
                area,
                conversations: input
                    .conversations
                    .into_iter()
                    .map(|t| (t.topic, t.count))
                    .collect(),
            };
            let _g = inner.edit.lock().await;
            let mut h = inner.resident_log(&a, &activity, date).await?;
            let rid = h.edit(|log| log.log_round(&author, &cat, round)).await?;
            let doc = h.get().doc().id();
            inner.edited(doc);
            Ok(format!("{doc}/{rid}"))
        })
    }

    /// Logs a food-club evening (story 17): how many came and how many of them for the first
    /// time. More first-timers than came is refused naming `first_timers`.
    pub async fn log_food_club(&self, input: api::FoodClubInput) -> Result<String> {
        on_runtime!(self, |inner| {
            let a = inner.account()?;
            let activity: ActivityId = parse("activity_id", &input.activity_id)?;
            let date: Date = parse("date", &input.date)?;
            let area = inner
                .resident_area(&a, &activity, input.area_id.as_deref())
                .await?;
            let author = inner.author(&a)?;
            let evening = NewEvening {
                date,
                area,
                came: input.came,
                first_timers: input.first_timers,
            };
            // Checked before the log is created, so a refused evening leaves nothing behind.
            nabo_core::docs::resident::check_evening(
                Term::of(date),
                &nabo_core::model::resident::FoodClubEvening {
                    date,
                    area: evening.area.clone(),
                    came: evening.came,
                    first_timers: evening.first_timers,
                    withdrawn: false,
                    by: author.by.clone(),
                    at: author.at,
                },
            )?;
            let _g = inner.edit.lock().await;
            let mut h = inner.resident_log(&a, &activity, date).await?;
            let eid = h.edit(|log| log.log_evening(&author, evening)).await?;
            let doc = h.get().doc().id();
            inner.edited(doc);
            Ok(format!("{doc}/{eid}"))
        })
    }

    /// The activity's resident log as this phone holds it (every term), newest first.
    pub async fn resident_log(&self, activity_id: String) -> Result<api::ResidentLog> {
        on_runtime!(self, |inner| {
            let activity: ActivityId = parse("activity_id", &activity_id)?;
            let mut out = api::ResidentLog {
                rounds: Vec::new(),
                evenings: Vec::new(),
                conversations: 0,
                came: 0,
                first_timers: 0,
            };
            for (id, scope) in inner.docs_of(DocKind::ResidentLog).await? {
                let Scope::ResidentLog { activity: a, .. } = scope else {
                    continue;
                };
                if a != activity {
                    continue;
                }
                let Some(doc) = inner.store.load(id, nabo_core::entropy::actor()).await? else {
                    continue;
                };
                let log = ResidentLogDoc::from_doc(doc)?;
                let s = log.summary(None, None)?;
                out.conversations += s.conversations;
                out.came += s.came;
                out.first_timers += s.first_timers;
                for (rid, r) in log.rounds()? {
                    out.rounds.push(api::RoundInfo {
                        id: format!("{id}/{rid}"),
                        date: r.date.to_string(),
                        area_id: r.area.to_string(),
                        conversations: r
                            .conversations
                            .iter()
                            .map(|(t, n)| api::TopicCount {
                                topic: t.to_string(),
                                count: *n,
                            })
                            .collect(),
                        withdrawn: r.withdrawn,
                    });
                }
                for (eid, e) in log.evenings()? {
                    out.evenings.push(api::FoodClubInfo {
                        id: format!("{id}/{eid}"),
                        date: e.date.to_string(),
                        area_id: e.area.to_string(),
                        came: e.came,
                        first_timers: e.first_timers,
                        withdrawn: e.withdrawn,
                    });
                }
            }
            out.rounds.sort_by(|a, b| b.date.cmp(&a.date));
            out.evenings.sort_by(|a, b| b.date.cmp(&a.date));
            Ok(out)
        })
    }
}
