//! Management: housing areas, programmes, activities (type from the versioned catalogue),
//! change theories, staff with roles and placement, volunteers with børneattest warnings,
//! inviting a volunteer's phone (one-time code and QR code) and revoking a device.

use axum::extract::{Extension, Form, Query, State};
use maud::{PreEscaped, html};
use nabo_core::docs::tenant::TenantDoc;
use nabo_core::docs::volunteers::{
    CertificateState, VolunteersDoc, certificate_state, renewals_due,
};
use nabo_core::document::TypedDoc;
use nabo_core::model::activity::RosterVolunteer;
#[allow(unused_imports)]
use nabo_core::model::activity::{Activity, Goal, IndicatorDef};
use nabo_core::model::org::HousingArea;
use nabo_core::model::volunteer::{ChildCertificate, Engagement, Training};
use nabo_core::prelude::*;
use nabo_core::rounds;
use serde::Deserialize;

use super::data::{ActivityEntry, TenantData};
use super::fmt::{self, Da};
use super::table::{Cell, ExportQuery, Table};
use super::{FormFields, Nav, Viewer, WebError, WebResult, back_to, export, page};
use crate::api::AppState;

fn certificate_da(c: CertificateState) -> (&'static str, &'static str) {
    match c {
        CertificateState::Missing => ("Mangler", "markeret"),
        CertificateState::Valid => ("Gyldig", "godkendt"),
        CertificateState::RenewalSoon => ("Skal fornyes snart", "ny"),
        CertificateState::Expired => ("Udløbet", "markeret"),
    }
}

/// `GET /administration`.
pub async fn page_handler(s: &AppState, v: &Viewer, q: &super::manage::NoticeQuery) -> WebResult {
    let d = TenantData::load(s, &v.principal).await?;
    let mut users = Vec::new();
    let mut devices = Vec::new();
    for u in s.storage.users(&v.principal.tenant).await? {
        let name = crate::people::display_name(s.storage.as_ref(), &s.vault, &u).await?;
        for dev in s.storage.devices(&u.id).await? {
            devices.push((name.clone(), u.id.clone(), dev));
        }
        users.push((name, u));
    }
    // The page lists the logins and volunteers by name (ADR 0024).
    crate::access_log::record(
        s,
        &v.principal,
        nabo_core::access_log::AccessKind::Search,
        nabo_core::access_log::Purpose::Administration,
        None,
        users
            .iter()
            .map(|(_, u)| crate::access_log::subject_of(u))
            .chain(d.volunteers.keys().map(ToString::to_string)),
    )
    .await?;
    let privacy = super::insight::settings_section(s, v).await?;
    let taxonomy_of = |p: &ProgrammeId| d.programmes.get(p).map(|p| p.taxonomy.to_string());
    let taxonomies: Vec<String> = {
        let mut t: Vec<String> = d.programmes.keys().filter_map(taxonomy_of).collect();
        t.sort();
        t.dedup();
        t
    };
    Ok(page(
        v,
        Nav::Admin,
        "Administration",
        html! {
            (super::manage::notice(q, &d))
            nav class="indhold" aria-label="Afsnit" {
                a href="#omraader" { "Boligområder" } " · " a href="#programmer" { "Programmer" } " · "
                a href="#aktiviteter" { "Aktiviteter" } " · " a href="#forandringsteori" { "Forandringsteori" } " · "
                a href="#medarbejdere" { "Medarbejdere" } " · " a href="#frivillige" { "Frivillige" } " · "
                a href="#enheder" { "Brugere og enheder" } " · "
                a href="/administration/organisationer" { "Organisationer" }
            }
            section id="bestyrelsen" {
                h2 { "Bestyrelsens overblik" }
                form method="post" action="/administration/smaa-tal" class="stak" {
                    label { "Mindste antal der vises (mindre tal skjules, 1–20)"
                        input type="number" name="graense" min="1" max="20" required value=(d.settings.small_cell_threshold); }
                    button type="submit" { "Gem" }
                }
            }
            section id="noter" {
                h2 { "Noter på opsøgende kontakter" }
                p { "Som udgangspunkt registreres en kontakt kun med sted, emner og udfald. Slås fritekstnoter til, kan medarbejderne skrive en kort note (højst 500 tegn) til en kontakt. Noten forsegles på telefonen med personens nøgle – eller kontaktens egen – og kan ikke læses, når personen slettes, eller opbevaringsfristen for noter er udløbet. Skriv aldrig CPR-nummer, helbredsoplysninger eller andres navne i en note." }
                form method="post" action="/administration/noter" class="stak" {
                    label class="valg" { input type="checkbox" name="noter" value="ja" checked[d.settings.free_text_notes]; " Tillad fritekstnoter på kontakter" }
                    button type="submit" { "Gem" }
                }
            }
            section id="omraader" {
                h2 { "Boligområder" }
                div class="rul" { table {
                    thead { tr { th scope="col" { "Område" } th scope="col" { "Ejerform" } th scope="col" { "Beboere" } th scope="col" { "Udsat boligområde" } th scope="col" { "Mødesteder" } th scope="col" {} } }
                    tbody { @for (id, a) in d.live_areas() { tr {
                        th scope="row" { (a.name) }
                        td { (a.tenure.da()) }
                        td class="tal" { (a.residents.map(|r| fmt::num(i64::from(r))).unwrap_or_default()) }
                        td { (if a.disadvantaged { "ja" } else { "nej" }) }
                        td { (a.venues.values().map(|v| v.name.clone()).collect::<Vec<_>>().join(", ")) }
                        td { (super::manage::edit_link(super::manage::Kind::Area, id.as_str(), &a.name)) }
                    } } }
                } }
                (super::manage::archived_list(super::manage::Kind::Area, &d.areas.iter().filter(|(_, a)| a.archived).map(|(id, a)| (id.to_string(), a.name.clone())).collect::<Vec<_>>()))
                details {
                    summary { "Tilføj boligområde" }
                    form method="post" action="/administration/omraader" class="stak" {
                        label { "Navn" input name="navn" required maxlength="200"; }
                        label { "Ejerform" select name="ejerform" { @for t in Tenure::ALL { option value=(t.code()) { (t.da()) } } } }
                        label { "Antal beboere" input name="beboere" type="number" min="0" max="100000"; }
                        label class="valg" { input type="checkbox" name="udsat" value="ja"; " Udsat boligområde" }
                        button type="submit" { "Tilføj" }
                    }
                }
            }
            section id="programmer" {
                h2 { "Programmer" }
                @for (id, p) in d.live_programmes() {
                    article class="kortblok" {
                        h3 { (p.name) " " (super::manage::edit_link(super::manage::Kind::Programme, id.as_str(), &p.name)) }
                        p { (fmt::date(p.start)) " – " (fmt::date(p.end)) @if let Some(r) = &p.funding_round { " · bevilling " (r) } }
                        p { "Typologi: " (p.typologies.iter().map(|t| t.da()).collect::<Vec<_>>().join(", ")) }
                        p { "Områder: " (p.areas.iter().map(|a| d.area_name(a)).collect::<Vec<_>>().join(", ")) }
                        p { "Finansiering: " (p.funding.values().map(|f| format!("{} {} %", f.org.as_ref().and_then(|o| d.orgs.get(o)).map_or_else(|| f.kind.da().to_owned(), |o| o.name.clone()), f.share_pct)).collect::<Vec<_>>().join(", ")) }
                    }
                }
                (super::manage::archived_list(super::manage::Kind::Programme, &d.programmes.iter().filter(|(_, p)| p.archived).map(|(id, p)| (id.to_string(), p.name.clone())).collect::<Vec<_>>()))
            }
            details {
                summary { "Opret program" }
                form method="post" action="/administration/programmer" class="stak" {
                    label { "Navn" input name="navn" required maxlength="200" placeholder="fx Helhedsplan Nordbyen 2027–2030"; }
                    label { "Fra" input type="date" name="fra" required; }
                    label { "Til" input type="date" name="til" required; }
                    label { "Bevillingsrunde / taksonomi"
                        select name="taksonomi" { @for t in d.catalogue.taxonomies() { option value=(t.id) { (t.name_da) } } }
                    }
                    fieldset { legend { "Boligområder" }
                        @for (id, a) in d.live_areas() { label class="valg" { input type="checkbox" name="omraade" value=(id.as_str()); " " (a.name) } }
                    }
                    fieldset { legend { "Geografisk typologi" }
                        @for t in GeographyTypology::ALL { label class="valg" { input type="checkbox" name="typologi" value=(t.code()); " " (t.da()) } }
                    }
                    fieldset { legend { "Finansiering (procent)" }
                        @for k in [FunderKind::Lbf, FunderKind::Kommune, FunderKind::HousingOrganisation] {
                            label { (k.da()) input type="number" name={"andel-" (k.code())} min="0" max="100" value="0"; }
                        }
                    }
                    button type="submit" { "Opret program" }
                }
            }
            section id="aktiviteter" {
                h2 { "Aktiviteter" }
                p { a href="/aktiviteter" { "Se alle aktiviteter" } }
                div class="rul" { table {
                    thead { tr { th scope="col" { "Aktivitet" } th scope="col" { "Program" } th scope="col" { "Boligområde" } th scope="col" {} } }
                    tbody { @for a in d.live_activities() { tr {
                        th scope="row" { a href={"/aktiviteter/" (a.id.as_str())} { (a.activity.name) } }
                        td { (d.programmes.get(&a.activity.programme).map(|p| p.name.clone()).unwrap_or_default()) }
                        td { (d.area_name(&a.activity.area)) }
                        td { (super::manage::edit_link(super::manage::Kind::Activity, a.id.as_str(), &a.activity.name)) }
                    } } }
                } }
                (super::manage::archived_list(super::manage::Kind::Activity, &d.activities.iter().filter(|a| a.activity.archived).map(|a| (a.id.to_string(), a.activity.name.clone())).collect::<Vec<_>>()))
                details {
                    summary { "Opret aktivitet" }
                    form method="post" action="/administration/aktiviteter" class="stak" {
                        label { "Navn" input name="navn" required maxlength="200"; }
                        label { "Program" select name="program" required { @for (id, p) in d.live_programmes() { option value=(id.as_str()) { (p.name) } } } }
                        label { "Boligområde" select name="omraade" required { @for (id, a) in d.live_areas() { option value=(id.as_str()) { (a.name) } } } }
                        label { "Aktivitetstype (fra programmets bevillingsrunde)"
                            select name="type" required {
                                @for tax in &taxonomies {
                                    @if let Some(t) = d.catalogue.taxonomy(tax) {
                                        @for (area, types) in rounds::offered_types(&d.catalogue, tax) {
                                            optgroup label={(t.name_da) " · " (area.name_da)} {
                                                @for at in types {
                                                    option value={(t.id) "|" (at.code)} {
                                                        (at.name_da) @if at.number.is_none() { " (lokal type)" }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        p class="note" { "Typerne er CFBU's katalog over 43 aktivitetstyper, placeret under bevillingsrundens indsatsområder, og organisationens egne lokale typer. Vælg en type fra den runde, programmet følger." }
                        fieldset {
                            legend { "Målgrupper" }
                            @for g in d.catalogue.target_groups().filter(|g| !g.retired) {
                                label class="valg" { input type="checkbox" name="maalgruppe" value=(g.code); " " (g.name_da) }
                            }
                        }
                        label { "Registrering"
                            select name="registrering" {
                                option value="headcount" { "Kun antal (ingen navne)" }
                                option value="pseudonymous" { "Fornavn eller kaldenavn" }
                            }
                        }
                        label class="valg" { input type="checkbox" name="hovedaktivitet" value="ja"; " Hovedaktivitet i indsatsområdet" }
                        button type="submit" { "Opret" }
                    }
                }
            }
            details id="lokale-typer" {
                summary { "Tilføj en lokal aktivitetstype" }
                p class="note" { "En aktivitet, som ikke findes i kataloget (fx en mødregruppe), kan få en lokal type under et af bevillingsrundens indsatsområder." }
                form method="post" action="/administration/aktivitetstyper" class="stak" {
                    label { "Navn" input name="navn" required maxlength="200" placeholder="fx Mødregruppe"; }
                    label { "Indsatsområde"
                        select name="omraade" required {
                            @for t in d.catalogue.taxonomies() {
                                optgroup label=(t.name_da) {
                                    @for a in &t.areas { option value={(t.id) "|" (a.code)} { (a.name_da) } }
                                }
                            }
                        }
                    }
                    fieldset {
                        legend { "Målgrupper" }
                        @for g in d.catalogue.target_groups().filter(|g| !g.retired) {
                            label class="valg" { input type="checkbox" name="maalgruppe" value=(g.code); " " (g.name_da) }
                        }
                    }
                    button type="submit" { "Tilføj type" }
                }
            }
            section id="forandringsteori" {
                h2 { "Forandringsteori" }
                p { "Udfordringer → målgruppe → leverancer → indsatsnære mål → langsigtede mål. Tilføj et led til en aktivitets forandringsteori:" }
                form method="post" action="/administration/forandringsteori" class="stak" {
                    label { "Aktivitet" select name="aktivitet" required { @for a in d.live_activities() { option value=(a.id.as_str()) { (a.activity.name) } } } }
                    label { "Led"
                        select name="led" {
                            option value="udfordring" { "Udfordring" }
                            @for l in GoalLevel::ALL { option value=(l.code()) { (l.da()) } }
                        }
                    }
                    label { "Trin (1–9, for mål)" input name="trin" type="number" min="1" max="9" value="1"; }
                    label { "Tekst" textarea name="tekst" required maxlength="4000" rows="2" {} }
                    label { "Indikator fra det fælles bibliotek (valgfri, for mål)"
                        select name="indikator" {
                            option value="" { "Ingen" }
                            @for i in d.catalogue.indicators().filter(|i| !i.retired) { option value=(i.code) { (i.name_da) } }
                        }
                    }
                    button type="submit" { "Tilføj" }
                }
            }
            section id="medarbejdere" {
                h2 { "Medarbejdere, roller og placering" }
                div class="rul" { table {
                    thead { tr { th scope="col" { "Navn" } th scope="col" { "Stilling" } th scope="col" { "Roller" } th scope="col" { "Praksisroller" } th scope="col" { "Placering i dag" } } }
                    tbody { @for (id, m) in &d.staff { tr {
                        th scope="row" { (d.staff_name(id)) }
                        td { (m.title) }
                        td { (d.assignments.values().filter(|a| &a.staff == id && a.to.is_none_or(|t| t >= d.today)).filter_map(|a| a.role).map(|r| r.da()).collect::<Vec<_>>().join(", ")) }
                        td { (d.assignments.values().filter(|a| &a.staff == id && a.to.is_none_or(|t| t >= d.today)).filter_map(|a| a.practice_role).map(|r| r.da()).collect::<Vec<_>>().join(", ")) }
                        td { (m.placements.values().find(|p| p.covers(d.today)).and_then(|p| p.summary()).map(|k| k.da()).unwrap_or("–")) }
                    } } }
                } }
            }
            details {
                summary { "Flyt en medarbejders placering" }
                p class="note" { "Den gamle placering slutter dagen før; det, der er registreret før, bliver i det gamle område." }
                form method="post" action="/administration/placering" class="stak" {
                    label { "Medarbejder" select name="medarbejder" required { @for (id, m) in d.choosable_staff() { option value=(id.as_str()) { (m.name) } } } }
                    label { "Fra" input type="date" name="fra" required value=(d.today.to_string()); }
                    label { "Placering"
                        select name="art" { @for k in PlacementKind::ALL { option value=(k.code()) { (k.da()) } } }
                    }
                    label { "Boligområde (lokal placering)"
                        select name="omraade" { option value="" { "Intet (centralt)" } @for (id, a) in d.live_areas() { option value=(id.as_str()) { (a.name) } } }
                    }
                    fieldset { legend { "Arbejdsdage" }
                        @for (wd, name) in [(Weekday::Mon, "mandag"), (Weekday::Tue, "tirsdag"), (Weekday::Wed, "onsdag"), (Weekday::Thu, "torsdag"), (Weekday::Fri, "fredag")] {
                            label class="valg" { input type="checkbox" name="dag" value=(wd.code()) checked; " " (name) }
                        }
                    }
                    button type="submit" { "Flyt placering" }
                }
            }
            details {
                summary { "Tildel en rolle" }
                form method="post" action="/administration/roller" class="stak" {
                    label { "Medarbejder" select name="medarbejder" required { @for (id, m) in d.choosable_staff() { option value=(id.as_str()) { (m.name) } } } }
                    label { "Program" select name="program" required { @for (id, p) in d.live_programmes() { option value=(id.as_str()) { (p.name) } } } }
                    label { "Rolle (de otte roller)" select name="rolle" { option value="" { "Ingen" } @for r in Role::ALL { option value=(r.code()) { (r.da()) } } } }
                    label { "Praksisrolle (de fire roller)" select name="praksisrolle" { option value="" { "Ingen" } @for r in PracticeRole::ALL { option value=(r.code()) { (r.da()) } } } }
                    label { "Fra" input type="date" name="fra" required value=(d.today.to_string()); }
                    button type="submit" { "Tildel" }
                }
            }
            section id="frivillige" {
                h2 { "Frivillige og børneattester" }
                div class="rul" { table {
                    thead { tr { th scope="col" { "Frivillig" } th scope="col" { "Status" } th scope="col" { "Børneattest" } th scope="col" { "Fornyes senest" } th scope="col" { "Aktiviteter" } } }
                    tbody { @for (id, vol) in d.volunteers.iter().filter(|(_, v)| v.erased.is_none()) {
                        @let state = certificate_state(vol.child_certificate.as_ref(), d.today);
                        @let (label, class) = certificate_da(state);
                        tr {
                            th scope="row" { (d.volunteer_name(id)) }
                            td { (vol.status.da()) }
                            td { span class={"maerke " (class)} { (label) } }
                            td { (vol.child_certificate.as_ref().map(|c| fmt::date(c.renewal_due)).unwrap_or_default()) }
                            td { (d.engagements.values().filter(|e| &e.volunteer == id && e.active_on(d.today)).filter_map(|e| d.activity(&e.activity)).map(|a| a.activity.name.clone()).collect::<Vec<_>>().join(", ")) }
                        }
                    } }
                } }
            }
            details id="tilknyt" {
                summary { "Tilknyt en frivillig til en aktivitet" }
                p class="note" { "Den frivillige kommer på aktivitetens vagtplan. Børneattesten tjekkes altid, som den er registreret nu." }
                form method="post" action="/administration/tilknytning" class="stak" {
                    label { "Frivillig" select name="frivillig" required { @for id in d.volunteers.iter().filter(|(_, v)| v.erased.is_none()).map(|(id, _)| id) { option value=(id.as_str()) { (d.volunteer_name(id)) } } } }
                    label { "Aktivitet" select name="aktivitet" required { @for a in d.live_activities() { option value=(a.id.as_str()) { (a.activity.name) } } } }
                    label { "Rolle"
                        select name="rolle" required {
                            @for t in d.catalogue.vocabulary(Vocabulary::VolunteerRoles).iter().filter(|t| !t.retired) { option value=(t.code) { (t.name_da) } }
                        }
                    }
                    label { "Fra" input type="date" name="fra" required value=(d.today.to_string()); }
                    button type="submit" { "Tilknyt" }
                }
            }
            details id="kursus" {
                summary { "Registrér et kursus eller en træning" }
                form method="post" action="/administration/kursus" class="stak" {
                    label { "Frivillig" select name="frivillig" required { @for id in d.volunteers.iter().filter(|(_, v)| v.erased.is_none()).map(|(id, _)| id) { option value=(id.as_str()) { (d.volunteer_name(id)) } } } }
                    label { "Kursus" input name="kursus" required maxlength="200" placeholder="fx Konflikthåndtering for naboambassadører"; }
                    label { "Dato" input type="date" name="dato" required value=(d.today.to_string()); }
                    button type="submit" { "Gem kursus" }
                }
            }
            section id="vagtplan" {
                h2 { "Hvem hjælper hvor" }
                div class="rul" { table {
                    thead { tr { th scope="col" { "Aktivitet" } th scope="col" { "Frivillig" } th scope="col" { "Rolle" } th scope="col" { "Fra" } th scope="col" { "Børneattest" } th scope="col" { "Kurser" } th scope="col" {} } }
                    tbody {
                        @for a in &d.activities {
                            @for e in d.engagements.values().filter(|e| e.activity == a.id && e.active_on(d.today)) {
                                @let vol = d.volunteers.get(&e.volunteer);
                                tr {
                                    th scope="row" { (a.activity.name) }
                                    td { (d.volunteer_name(&e.volunteer)) }
                                    td { (d.term(Vocabulary::VolunteerRoles, e.role.as_str())) }
                                    td { (fmt::date(e.start)) }
                                    td { (certificate_da(certificate_state(vol.and_then(|v| v.child_certificate.as_ref()), d.today)).0) }
                                    td { (vol.map(|v| v.trainings.values().map(|t| format!("{} ({})", t.name, fmt::date(t.date))).collect::<Vec<_>>().join(", ")).unwrap_or_default()) }
                                    td { (super::roster::end_link(&a.id, &e.volunteer, &d.volunteer_name(&e.volunteer))) }
                                }
                            }
                        }
                    }
                } }
            }
            details id="boerneattest" {
                summary { "Registrér en børneattest" }
                p class="note" { "Nabo gemmer kun, at attesten er indhentet, og hvornår den skal fornyes – aldrig indholdet. Serveren bruger den nye attest med det samme, den frivilliges telefon ved næste synkronisering." }
                form method="post" action="/administration/boerneattest" class="stak" {
                    label { "Frivillig" select name="frivillig" required { @for id in d.volunteers.iter().filter(|(_, v)| v.erased.is_none()).map(|(id, _)| id) { option value=(id.as_str()) { (d.volunteer_name(id)) } } } }
                    label { "Indhentet" input type="date" name="indhentet" required value=(d.today.to_string()); }
                    label { "Fornyes senest" input type="date" name="fornyes" required value=(d.today.add_days(730).to_string()); }
                    button type="submit" { "Gem børneattest" }
                }
            }
            div id="fornyelser" { (renewal_table(&d).html("/administration/boerneattester")) }
            section id="enheder" {
                h2 { "Brugere og enheder" }
                div class="rul" { table {
                    thead { tr { th scope="col" { "Bruger" } th scope="col" { "Rolle" } th scope="col" { "Status" } th scope="col" { "Invitér telefon" } } }
                    tbody { @for (name, u) in &users { tr {
                        th scope="row" { a href={"/personer/" (u.id)} { (name) } }
                        td { (u.role.da()) }
                        td { (if u.disabled { "spærret" } else { "aktiv" }) }
                        td { @if !u.disabled && u.role != AppRole::Central {
                            form method="post" action="/administration/invitation" class="inline" {
                                input type="hidden" name="bruger" value=(u.id);
                                button type="submit" class="sekundaer" aria-label={"Invitér " (name)} { "Lav engangskode" }
                            }
                        } }
                    } } }
                } }
                h3 { "Tilmeldte telefoner" }
                div class="rul" { table {
                    thead { tr { th scope="col" { "Enhed" } th scope="col" { "Bruger" } th scope="col" { "Status" } th scope="col" {} } }
                    tbody {
                        @if devices.is_empty() { tr { td colspan="4" class="tom" { "Ingen telefoner tilmeldt endnu." } } }
                        @for (owner, owner_id, dev) in &devices { tr {
                            th scope="row" { (dev.name) }
                            td { (owner) }
                            td { (if dev.revoked { "spærret" } else { "aktiv" }) }
                            td { @if !dev.revoked {
                                // Revoking asks first, on a page of its own.
                                a class="knap fare" href={"/personer/" (owner_id) "/enheder/" (dev.id) "/spaer"} aria-label={"Spær " (dev.name)} { "Spær enheden …" }
                            } }
                        } }
                    }
                } }
            }
            (privacy)
        },
    ))
}

/// `GET /administration`.
pub async fn page_route(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<super::manage::NoticeQuery>,
) -> WebResult {
    page_handler(&s, &v, &q).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    bruger: String,
}

/// `POST /administration/invitation`: a one-time enrolment code for a volunteer's or
/// worker's phone, shown as text and as a QR code the app scans.
pub async fn invite(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    super::RequestInfo { headers, peer }: super::RequestInfo,
    Form(f): Form<InviteForm>,
) -> WebResult {
    let u = s.storage.user(&f.bruger).await?.ok_or(WebError::NotFound)?;
    if u.tenant != v.principal.tenant {
        return Err(WebError::NotFound);
    }
    if u.disabled {
        return Err(WebError::BadRequest("Brugeren er spærret.".into()));
    }
    let name = crate::people::display_name(s.storage.as_ref(), &s.vault, &u).await?;
    let (code, expires_at) = s.auth.create_enrolment(&u.id, &v.principal.user_id).await?;
    // The relay's address as phones reach it: the configured public URL (never what the
    // request's Host header claims, when one is configured).
    let relay = s.site.origin_for(peer, &headers);
    let payload = format!(
        "nabo://tilmeld?relay={}&kode={}",
        fmt::url_encode(&relay),
        fmt::url_encode(&code)
    );
    let svg = super::phone::qr_svg(&payload)?;
    Ok(page(
        &v,
        Nav::Admin,
        "Engangskode til telefonen",
        html! {
            p { "Til " strong { (name) } ". Koden virker én gang og udløber " (fmt::datetime(Timestamp(expires_at))) "." }
            p class="kode" id="engangskode" { (code) }
            figure class="qr" {
                (PreEscaped(svg))
                figcaption { "Scan koden i Nabo-appen, eller skriv koden ovenfor." }
            }
            p { "Relæets adresse: " code id="relae" { (relay) } }
            p { a href={"/personer/" (u.id)} { "Til " (name) } " · " a href="/administration#enheder" { "Tilbage til administration" } }
        },
    ))
}

#[derive(Deserialize)]
pub struct DeviceForm {
    enhed: String,
}

/// `POST /administration/enheder/spaer`: the phone's tokens stop working at once, its
/// connections close, and it wipes its local data when it next talks to the relay.
pub async fn revoke_device(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<DeviceForm>,
) -> WebResult {
    let dev = s
        .storage
        .device(&f.enhed)
        .await?
        .ok_or(WebError::NotFound)?;
    let owner = s
        .storage
        .user(&dev.user_id)
        .await?
        .ok_or(WebError::NotFound)?;
    if owner.tenant != v.principal.tenant {
        return Err(WebError::NotFound);
    }
    s.storage
        .revoke_device(&dev.id, crate::storage::now_ms())
        .await?;
    s.hub.close_device(&dev.id, "device revoked");
    Ok(back_to("/administration#enheder"))
}

#[derive(Deserialize)]
pub struct AreaForm {
    navn: String,
    ejerform: String,
    beboere: Option<String>,
    udsat: Option<String>,
}

/// `POST /administration/omraader`.
pub async fn put_area(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<AreaForm>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let meta = d.tenant_meta.clone().ok_or(WebError::NotFound)?;
    let tenure: Tenure = f
        .ejerform
        .parse()
        .map_err(|_| WebError::BadRequest("Ukendt ejerform.".into()))?;
    let residents = match f
        .beboere
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(r) => Some(
            r.parse::<u32>()
                .map_err(|_| WebError::BadRequest("Antal beboere skal være et helt tal.".into()))?,
        ),
    };
    let id: AreaId = format!(
        "a-{}-{}",
        slug(&f.navn),
        &nabo_core::entropy::uuid().simple().to_string()[..4]
    )
    .parse()
    .map_err(|_| WebError::BadRequest("Navnet kan ikke bruges.".into()))?;
    let area = HousingArea {
        name: f.navn.trim().to_owned(),
        tenure,
        disadvantaged: f.udsat.is_some(),
        municipality: None,
        residents,
        departments: IdMap::new(),
        venues: IdMap::new(),
        blocks: Set::new(),
        archived: false,
    };
    let by = v.author();
    s.hub
        .edit(&meta, &v.principal, |t: &mut TenantDoc| {
            t.put_area(&by, &id, area)?;
            Ok(())
        })
        .await?;
    Ok(super::manage::created(
        super::manage::Kind::Area,
        id.as_str(),
    ))
}

#[derive(Deserialize)]
pub struct ThresholdForm {
    graense: String,
}

/// `POST /administration/smaa-tal`: the board view's small-number threshold (tenant
/// setting; the document's own rule keeps it within 1–20).
pub async fn set_threshold(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<ThresholdForm>,
) -> WebResult {
    let threshold: u32 = f.graense.trim().parse().map_err(|_| {
        WebError::BadRequest("Mindste antal skal være et helt tal fra 1 til 20.".into())
    })?;
    change_settings(&s, &v, |settings| settings.small_cell_threshold = threshold).await?;
    Ok(super::manage::said(
        "/administration",
        "smaa-tal-gemt",
        "#bestyrelsen",
    ))
}

/// Changes the tenant's settings in its document, through the relay's edit path (the
/// document's own rules check the result; phones hear of it).
async fn change_settings(
    s: &AppState,
    v: &Viewer,
    change: impl FnOnce(&mut nabo_core::docs::tenant::Settings),
) -> Result<(), WebError> {
    let d = TenantData::load(s, &v.principal).await?;
    let meta = d.tenant_meta.clone().ok_or(WebError::NotFound)?;
    let by = v.author();
    s.hub
        .edit(&meta, &v.principal, |t: &mut TenantDoc| {
            let mut settings = t.settings()?;
            change(&mut settings);
            t.set_settings(&by, settings)
        })
        .await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct NotesForm {
    noter: Option<String>,
}

/// `POST /administration/noter`: whether outreach workers may write free-text notes on
/// contacts (tenant setting, off by default; issue 11 item 2). Phones pick it up at their
/// next sync; notes written before stay sealed.
pub async fn set_notes(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<NotesForm>,
) -> WebResult {
    let on = match f.noter.as_deref() {
        None => false,
        Some("ja") => true,
        Some(_) => {
            return Err(WebError::BadRequest(
                "«Tillad fritekstnoter» kan kun slås til eller fra.".into(),
            ));
        }
    };
    change_settings(&s, &v, |settings| settings.free_text_notes = on).await?;
    Ok(super::manage::said(
        "/administration",
        "noter-gemt",
        "#noter",
    ))
}

struct ActivityForm {
    navn: String,
    program: String,
    omraade: String,
    kind: String,
    registrering: String,
    hovedaktivitet: Option<String>,
    maalgruppe: Vec<String>,
}

/// `POST /administration/aktiviteter`: a new activity document (type from the catalogue).
pub async fn create_activity(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult {
    // Repeated checkboxes (maalgruppe) need a form parser that keeps every value.
    let form = FormFields::parse(&body);
    let get = |k: &str| form.one(k).map(str::to_owned);
    let f = ActivityForm {
        navn: get("navn").unwrap_or_default(),
        program: get("program").unwrap_or_default(),
        omraade: get("omraade").unwrap_or_default(),
        kind: get("type").unwrap_or_default(),
        registrering: get("registrering").unwrap_or_default(),
        hovedaktivitet: get("hovedaktivitet"),
        maalgruppe: form.all("maalgruppe").map(str::to_owned).collect(),
    };
    let d = TenantData::load(&s, &v.principal).await?;
    let programme: ProgrammeId = f.program.parse().map_err(|_| WebError::NotFound)?;
    let area: AreaId = f.omraade.parse().map_err(|_| WebError::NotFound)?;
    let (taxonomy, kind) = f
        .kind
        .split_once('|')
        .ok_or_else(|| WebError::BadRequest("Vælg en aktivitetstype.".into()))?;
    let prog = d.programmes.get(&programme).ok_or(WebError::NotFound)?;
    super::manage::refuse_archived(
        super::manage::Kind::Programme,
        prog.archived,
        "Program",
        &prog.name,
    )?;
    super::manage::refuse_archived_areas(&d, [&area], "Boligområde")?;
    if rounds::check_programme_round(prog.taxonomy.as_str(), taxonomy).is_err() {
        let name = |t: &str| {
            d.catalogue
                .taxonomy(t)
                .map_or_else(|| t.to_owned(), |x| x.name_da.clone())
        };
        return Err(WebError::BadRequest(format!(
            "Aktivitetstypen hører til {}, men programmet «{}» følger {}. Vælg en type fra programmets bevillingsrunde.",
            name(taxonomy),
            prog.name,
            name(prog.taxonomy.as_str())
        )));
    }
    let mut input = NewActivity::new(&f.navn, programme, area, taxonomy, kind);
    input.target_groups = ranked(f.maalgruppe.iter().map(String::as_str))
        .map(|(g, p)| (g.to_owned(), p))
        .collect();
    input.main_activity = f.hovedaktivitet.is_some();
    input.attendance_mode = match f.registrering.as_str() {
        "pseudonymous" => AttendanceMode::Pseudonymous,
        _ => AttendanceMode::Headcount,
    };
    input.start = Some(d.today);
    let id: ActivityId = format!("act-{}", nabo_core::entropy::uuid().simple())
        .parse()
        .map_err(|_| WebError::Internal)?;
    let doc = ActivityDoc::create(
        v.principal.tenant.clone(),
        id.clone(),
        nabo_core::entropy::actor(),
        &v.author(),
        &d.catalogue,
        input,
    )?;
    let meta = crate::meta::derive(doc.doc(), s.storage.as_ref()).await?;
    s.storage.create_document(&meta, &doc.doc().save()).await?;
    // On to the new activity's page (its change theory comes next), saying it was created.
    Ok(back_to(&format!(
        "/aktiviteter/{}?besked=aktivitet-oprettet&post={}",
        id.as_str(),
        id.as_str()
    )))
}

/// `POST /administration/aktivitetstyper`: a local activity type under an area of a funding
/// round, kept in the tenant document (offered after the catalogue's types of that area).
pub async fn add_local_type(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let meta = d.tenant_meta.clone().ok_or(WebError::NotFound)?;
    let name = form.one("navn").unwrap_or_default().trim().to_owned();
    let (taxonomy, area) = form
        .one("omraade")
        .and_then(|x| x.split_once('|'))
        .filter(|(t, a)| d.catalogue.area(t, a).is_some())
        .ok_or_else(|| WebError::BadRequest("Vælg et indsatsområde.".into()))?;
    let slug = slug(&name);
    if slug.is_empty() {
        return Err(WebError::BadRequest(
            "Navnet skal indeholde bogstaver eller tal.".into(),
        ));
    }
    let code: Code = format!("{area}.{slug}")
        .parse()
        .map_err(|_| WebError::BadRequest("Navnet er for langt til en typekode.".into()))?;
    if d.catalogue.activity_type(taxonomy, code.as_str()).is_some() {
        return Err(WebError::BadRequest(format!(
            "Der findes allerede en type med navnet «{name}» i dette indsatsområde."
        )));
    }
    let mut groups = IdMap::new();
    for (g, p) in ranked(form.all("maalgruppe")) {
        let g: Code = g
            .parse()
            .map_err(|_| WebError::BadRequest("Ukendt målgruppe.".into()))?;
        groups.insert(g, p);
    }
    let t = nabo_core::docs::tenant::LocalActivityType {
        taxonomy: taxonomy.parse().map_err(|_| WebError::Internal)?,
        area: area.parse().map_err(|_| WebError::Internal)?,
        name_da: name,
        target_groups: groups,
    };
    let by = v.author();
    let cat = &d.catalogue;
    s.hub
        .edit(&meta, &v.principal, |doc: &mut TenantDoc| {
            doc.add_local_activity_type(&by, cat, &code, t)?;
            Ok(())
        })
        .await?;
    Ok(super::manage::said(
        "/administration",
        "type-tilfoejet",
        "#aktiviteter",
    ))
}

/// The renewal warnings: expired certificates and those due within 30 days.
fn renewal_table(d: &TenantData) -> Table {
    let mut t = Table::new(
        "boerneattester",
        "Børneattester, der er udløbet eller skal fornyes inden for 30 dage",
        &[
            "Frivillig",
            "Status",
            "Indhentet",
            "Fornyes senest",
            "Dage til fornyelse",
            "Aktiviteter",
        ],
    );
    for (id, state, c) in renewals_due(&d.volunteers, d.today) {
        t.row(vec![
            Cell::text(d.volunteer_name(id)),
            Cell::text(certificate_da(state).0),
            Cell::text(fmt::date(c.obtained)),
            Cell::text(fmt::date(c.renewal_due)),
            Cell::Int((c.renewal_due.0 - d.today.0).num_days()),
            Cell::text(
                d.engagements
                    .values()
                    .filter(|e| &e.volunteer == id && e.active_on(d.today))
                    .filter_map(|e| d.activity(&e.activity))
                    .map(|a| a.activity.name.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ]);
    }
    if t.rows.is_empty() {
        t.note = Some("Ingen børneattester skal fornyes inden for 30 dage.".into());
    }
    t
}

/// `GET /administration/boerneattester?eksport=csv|xlsx&tabel=boerneattester`: the renewal
/// warnings as a list to export.
pub async fn renewals(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<ExportQuery>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let t = renewal_table(&d);
    if q.eksport.is_some() {
        // The export names every volunteer with a certificate (ADR 0024).
        crate::access_log::record(
            &s,
            &v.principal,
            nabo_core::access_log::AccessKind::Export,
            nabo_core::access_log::Purpose::Administration,
            None,
            d.volunteers.keys().map(ToString::to_string),
        )
        .await?;
    }
    if let Some(r) = export(&q, &[&t], "boerneattester") {
        return r;
    }
    Ok(back_to("/administration#fornyelser"))
}

/// `POST /administration/boerneattest`: records that a volunteer's child certificate was
/// obtained and when it is due, in the volunteer directory — the one place the check that
/// blocks an uncertified volunteer reads (the relay at once, the volunteer's phone at its
/// next sync; ADR 0023).
pub async fn record_certificate(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let vid = volunteer_of(&form, &d)?;
    let c = ChildCertificate {
        obtained: form.date("indhentet", "Indhentet")?,
        renewal_due: form.date("fornyes", "Fornyes senest")?,
    };
    if c.renewal_due <= c.obtained {
        return Err(WebError::BadRequest(
            "«Fornyes senest» skal ligge efter datoen, attesten blev indhentet.".into(),
        ));
    }
    // The directory alone holds the certificate: the relay's rules and the phones read it
    // from there (ADR 0023), so nothing is copied to the rosters.
    edit_volunteers(&s, &v, &d, |doc, by| doc.set_child_certificate(by, &vid, c)).await?;
    Ok(back_to("/administration#frivillige"))
}

/// Edits the volunteer directory through the hub (phones see it).
async fn edit_volunteers(
    s: &AppState,
    v: &Viewer,
    d: &TenantData,
    f: impl FnOnce(&mut VolunteersDoc, &Author) -> nabo_core::Result<()>,
) -> Result<(), WebError> {
    let meta = d.volunteers_meta.as_ref().ok_or(WebError::NotFound)?;
    let by = v.author();
    s.hub
        .edit(meta, &v.principal, |doc: &mut VolunteersDoc| f(doc, &by))
        .await?;
    Ok(())
}

/// Puts `entry` on the roster of activity `a` through the hub (phones see it).
async fn set_roster(
    s: &AppState,
    v: &Viewer,
    d: &TenantData,
    a: &ActivityEntry,
    vid: &VolunteerId,
    entry: RosterVolunteer,
) -> Result<(), WebError> {
    let by = v.author();
    let cat = &d.catalogue;
    s.hub
        .edit(&a.meta, &v.principal, |act: &mut ActivityDoc| {
            act.set_roster(&by, cat, vid, entry)?;
            Ok(())
        })
        .await?;
    Ok(())
}

/// The volunteer named by the form's `frivillig`, if in the directory.
fn volunteer_of(form: &FormFields, d: &TenantData) -> Result<VolunteerId, WebError> {
    form.one("frivillig")
        .and_then(|x| x.parse().ok())
        .filter(|x| d.volunteers.contains_key(x))
        .ok_or(WebError::NotFound)
}

/// `POST /administration/tilknytning`: engages a volunteer in an activity with a role and
/// puts them on the activity's roster (again: this is also how ending one is undone).
pub async fn engage(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let vid = volunteer_of(&form, &d)?;
    let a = form
        .one("aktivitet")
        .and_then(|x| x.parse::<ActivityId>().ok())
        .and_then(|x| d.activity(&x))
        .ok_or(WebError::NotFound)?;
    let role: Code = form
        .one("rolle")
        .and_then(|x| x.parse().ok())
        .ok_or_else(|| WebError::BadRequest("Vælg en rolle.".into()))?;
    let start = form.date("fra", "Fra")?;
    let cat = &d.catalogue;
    let e = Engagement {
        volunteer: vid.clone(),
        activity: a.id.clone(),
        role: role.clone(),
        start,
        end: None,
    };
    edit_volunteers(&s, &v, &d, |doc, by| doc.engage(by, cat, e).map(|_| ())).await?;
    // The roster says who helps; the certificate stays in the directory (ADR 0023).
    let entry = RosterVolunteer {
        role,
        cleared_for_children_until: None,
        active: true,
    };
    set_roster(&s, &v, &d, a, &vid, entry).await?;
    Ok(back_to("/administration#vagtplan"))
}

/// `POST /administration/kursus`: a course or coaching a volunteer received.
pub async fn add_training(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let vid = volunteer_of(&form, &d)?;
    let t = Training {
        name: form.one("kursus").unwrap_or_default().trim().to_owned(),
        date: form.date("dato", "Dato")?,
    };
    edit_volunteers(&s, &v, &d, |doc, by| {
        doc.add_training(by, &vid, t).map(|_| ())
    })
    .await?;
    Ok(back_to("/administration#vagtplan"))
}

/// Target groups as ticked on a form: the first is primary, the others secondary.
fn ranked<'a>(groups: impl Iterator<Item = &'a str>) -> impl Iterator<Item = (&'a str, Priority)> {
    groups.enumerate().map(|(i, g)| {
        let p = if i == 0 {
            Priority::Primary
        } else {
            Priority::Secondary
        };
        (g, p)
    })
}

/// A code's or id's slug from a Danish name: lower-case ASCII, æ→ae, ø→oe, å→aa, other runs
/// of characters → '-'.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            'æ' => out.push_str("ae"),
            'ø' => out.push_str("oe"),
            'å' => out.push_str("aa"),
            'é' => out.push('e'),
            'ü' => out.push('u'),
            _ if !out.is_empty() && !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    out.trim_end_matches('-').chars().take(60).collect()
}

#[derive(Deserialize)]
pub struct TheoryForm {
    aktivitet: String,
    led: String,
    trin: Option<u8>,
    tekst: String,
    indikator: Option<String>,
}

/// `POST /administration/forandringsteori`: adds a challenge or a goal (with an indicator
/// from the shared library) to an activity's change theory.
pub async fn change_theory(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<TheoryForm>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let id: ActivityId = f.aktivitet.parse().map_err(|_| WebError::NotFound)?;
    let a = d.activity(&id).ok_or(WebError::NotFound)?;
    super::manage::refuse_archived(
        super::manage::Kind::Activity,
        a.activity.archived,
        "Aktivitet",
        &a.activity.name,
    )?;
    let by = v.author();
    let cat = &d.catalogue;
    let led = f.led.clone();
    let text = f.tekst.trim().to_owned();
    let step = f.trin.unwrap_or(1);
    let indicator = f.indikator.clone().filter(|i| !i.is_empty());
    s.hub
        .edit(&a.meta, &v.principal, |act: &mut ActivityDoc| {
            if led == "udfordring" {
                act.add_challenge(&by, &text)?;
            } else {
                let level: GoalLevel = led.parse().map_err(|_| {
                    nabo_core::Error::Invalid(nabo_core::Invalid {
                        field: "level",
                        reason: nabo_core::Reason::UnknownCode,
                        detail: "unknown goal level".into(),
                    })
                })?;
                let mut indicators = Set::new();
                if let Some(code) = &indicator {
                    let lib = cat.indicator(code);
                    let def = IndicatorDef {
                        library: Some(code.parse().map_err(|_| {
                            nabo_core::Error::Invalid(nabo_core::Invalid {
                                field: "indicator",
                                reason: nabo_core::Reason::UnknownCode,
                                detail: "unknown indicator".into(),
                            })
                        })?),
                        name: lib.map(|l| l.name_da.clone()).unwrap_or_default(),
                        unit: lib.map_or(IndicatorUnit::Count, |l| l.unit),
                        source: lib.map_or(IndicatorSource::Registration, |l| l.source),
                        hardness: lib.map_or(Hardness::Hard, |l| l.hardness),
                        baseline: None,
                        target: None,
                        periodicity: "halvår".into(),
                        retired: None,
                    };
                    indicators.insert(act.add_indicator(&by, cat, def)?);
                }
                act.add_goal(
                    &by,
                    Goal {
                        level,
                        text: text.clone(),
                        step,
                        leads_to: Set::new(),
                        indicators,
                        retired: None,
                    },
                )?;
            }
            Ok(())
        })
        .await?;
    Ok(super::manage::said(
        &format!("/aktiviteter/{}", id.as_str()),
        "forandringsteori-gemt",
        "",
    ))
}

#[derive(Deserialize)]
pub struct RoleForm {
    medarbejder: String,
    program: String,
    rolle: Option<String>,
    praksisrolle: Option<String>,
    fra: String,
}

/// `POST /administration/roller`: assigns one of the eight roles and/or one of the four
/// practice roles in a programme, from a date.
pub async fn assign_role(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<RoleForm>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let meta = d.staff_meta.clone().ok_or(WebError::NotFound)?;
    let staff: StaffId = f.medarbejder.parse().map_err(|_| WebError::NotFound)?;
    let programme: ProgrammeId = f.program.parse().map_err(|_| WebError::NotFound)?;
    let opt = |x: &Option<String>| x.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    let role = match opt(&f.rolle) {
        None => None,
        Some(r) => Some(
            r.parse::<Role>()
                .map_err(|_| WebError::BadRequest("Ukendt rolle.".into()))?,
        ),
    };
    let practice_role = match opt(&f.praksisrolle) {
        None => None,
        Some(r) => Some(
            r.parse::<PracticeRole>()
                .map_err(|_| WebError::BadRequest("Ukendt praksisrolle.".into()))?,
        ),
    };
    if role.is_none() && practice_role.is_none() {
        return Err(WebError::BadRequest(
            "Vælg en rolle eller en praksisrolle.".into(),
        ));
    }
    let from = super::date_value(Some(&f.fra), "Fra")?;
    let by = v.author();
    s.hub
        .edit(
            &meta,
            &v.principal,
            |st: &mut nabo_core::docs::staff::StaffDoc| {
                st.assign_role(
                    &by,
                    nabo_core::model::staff::RoleAssignment {
                        staff,
                        scope: nabo_core::model::staff::RoleScope::Programme(programme),
                        role,
                        practice_role,
                        from,
                        to: None,
                    },
                )?;
                Ok(())
            },
        )
        .await?;
    Ok(super::manage::said(
        "/administration",
        "rolle-tildelt",
        "#medarbejdere",
    ))
}

/// `POST /administration/programmer`: a new programme (helhedsplan) with its areas,
/// typologies and funding shares.
pub async fn create_programme(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let meta = d.tenant_meta.clone().ok_or(WebError::NotFound)?;
    let (start, end) = (form.date("fra", "Fra")?, form.date("til", "Til")?);
    let areas: Set<AreaId> = form
        .all("omraade")
        .map(|a| {
            a.parse()
                .map_err(|_| WebError::BadRequest("Ukendt boligområde.".into()))
        })
        .collect::<Result<_, _>>()?;
    super::manage::refuse_archived_areas(&d, areas.iter(), "Boligområder")?;
    let typologies: Set<GeographyTypology> = form
        .all("typologi")
        .map(|t| {
            t.parse()
                .map_err(|_| WebError::BadRequest("Ukendt typologi.".into()))
        })
        .collect::<Result<_, _>>()?;
    let mut funding = IdMap::new();
    for k in [
        FunderKind::Lbf,
        FunderKind::Kommune,
        FunderKind::HousingOrganisation,
    ] {
        let pct: u8 = form
            .one(&format!("andel-{}", k.code()))
            .filter(|x| !x.is_empty())
            .map(|x| x.parse())
            .transpose()
            .map_err(|_| {
                WebError::BadRequest("En andel skal være et helt tal fra 0 til 100.".into())
            })?
            .unwrap_or(0);
        if pct > 0 {
            funding.insert(
                format!("f-{}", k.code())
                    .parse()
                    .map_err(|_| WebError::Internal)?,
                nabo_core::model::programme::FundingShare {
                    kind: k,
                    org: None,
                    share_pct: pct,
                    amount_dkk: None,
                },
            );
        }
    }
    let programme = nabo_core::model::programme::Programme {
        name: form.one("navn").unwrap_or_default().to_owned(),
        start,
        end,
        funding_round: None,
        taxonomy: form
            .one("taksonomi")
            .unwrap_or_default()
            .parse()
            .map_err(|_| WebError::BadRequest("Vælg en bevillingsrunde.".into()))?,
        funding,
        board: None,
        areas,
        sites: IdMap::new(),
        selected_citizens: false,
        typologies,
        signatories: Set::new(),
        resident_approval: None,
        public_framing_pct: 0,
        continuation: Set::new(),
        org_model: None,
        process_phase: None,
        archived: false,
    };
    let id: ProgrammeId = format!(
        "p-{}",
        &nabo_core::entropy::uuid().simple().to_string()[..8]
    )
    .parse()
    .map_err(|_| WebError::Internal)?;
    let by = v.author();
    let cat = &d.catalogue;
    s.hub
        .edit(&meta, &v.principal, |t: &mut TenantDoc| {
            t.put_programme(&by, cat, &id, programme)?;
            Ok(())
        })
        .await?;
    Ok(super::manage::created(
        super::manage::Kind::Programme,
        id.as_str(),
    ))
}

/// `POST /administration/placering`: moves a staff member's placement from a date (user
/// story 24); the earlier placement ends the day before, so earlier records keep their area.
pub async fn move_placement(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let meta = d.staff_meta.clone().ok_or(WebError::NotFound)?;
    let staff: StaffId = form
        .one("medarbejder")
        .and_then(|x| x.parse().ok())
        .filter(|x| d.staff.contains_key(x))
        .ok_or(WebError::NotFound)?;
    let from = form.date("fra", "Fra")?;
    let kind: PlacementKind = form
        .one("art")
        .and_then(|x| x.parse().ok())
        .ok_or_else(|| WebError::BadRequest("Vælg en placering.".into()))?;
    let area: Option<AreaId> = match form.one("omraade").filter(|x| !x.is_empty()) {
        None => None,
        Some(a) => Some(a.parse().map_err(|_| WebError::NotFound)?),
    };
    let mut days = IdMap::new();
    for code in form.all("dag") {
        let wd: Weekday = code
            .parse()
            .map_err(|_| WebError::BadRequest("Ukendt ugedag.".into()))?;
        days.insert(
            wd,
            nabo_core::model::staff::PlacementDay {
                kind,
                area: area.clone(),
            },
        );
    }
    let placement = nabo_core::model::staff::Placement {
        from,
        to: None,
        days,
    };
    let by = v.author();
    s.hub
        .edit(
            &meta,
            &v.principal,
            |st: &mut nabo_core::docs::staff::StaffDoc| {
                st.move_placement(&by, &staff, from, placement)?;
                Ok(())
            },
        )
        .await?;
    Ok(super::manage::said(
        "/administration",
        "placering-flyttet",
        "#medarbejdere",
    ))
}
