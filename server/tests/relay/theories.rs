//! Change theories, one-off sessions and boards from the pages (issue 10 item 2, ADR 0026),
//! on SQLite and PostgreSQL: every form says what happened, bad input is refused with a
//! Danish message naming the field and changes nothing, retiring asks first and can be
//! undone, and what is retired leaves the pickers but stays in the reports of its period.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Browser, relay};
use nabo_server::testing::Backend;
use reqwest::StatusCode;
use reqwest::header::LOCATION;

/// Where a 303 leads.
fn location(resp: &reqwest::Response) -> String {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{resp:?}");
    resp.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// Posts a form that must be refused with `status` and a message containing `says`.
async fn refused_with(
    b: &Browser,
    status: StatusCode,
    path: &str,
    form: &[(&str, &str)],
    says: &str,
) {
    let resp = b.post(path, &b.base, form).await;
    assert_eq!(resp.status(), status, "{path} {form:?}");
    let text = resp.text().await.unwrap();
    assert!(text.contains(says), "{says} in {text}");
}

async fn refused(b: &Browser, path: &str, form: &[(&str, &str)], says: &str) {
    refused_with(b, StatusCode::BAD_REQUEST, path, form, says).await;
}

/// The options of the `<select name="…">` in a page.
fn picker(html: &str, name: &str) -> String {
    let i = html
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no {name}"));
    let end = html[i..].find("</select>").map_or(html.len(), |e| e + i);
    html[i..end].to_owned()
}

/// The value of the first input named `name`.
fn value_of(html: &str, name: &str) -> String {
    let i = html.find(&format!("name=\"{name}\"")).unwrap();
    let v = html[i..].find("value=\"").unwrap() + i + 7;
    html[v..].split('"').next().unwrap().to_owned()
}

/// The id of the change theory's goal whose text begins with `text`.
fn goal_id(html: &str, text: &str) -> String {
    let start = html.find("id=\"forandringsteori\"").expect("section");
    let i = html[start..]
        .find(&format!("</strong>{text}"))
        .unwrap_or_else(|| panic!("no goal {text}"))
        + start;
    let j = html[..i].rfind("id=\"maal-").unwrap() + "id=\"maal-".len();
    html[j..].split('"').next().unwrap().to_owned()
}

/// The id of the change theory's first indicator.
fn first_indicator(html: &str) -> String {
    let start = html.find("id=\"forandringsteori\"").expect("section");
    let j = html[start..].find("id=\"indikator-").unwrap() + start + "id=\"indikator-".len();
    html[j..].split('"').next().unwrap().to_owned()
}

/// The report form of the målopfyldelse page.
fn report_form(html: &str) -> &str {
    let i = html
        .find("action=\"/rapporter/maalopfyldelse\" class=\"stak\"")
        .expect("report form");
    let end = html[i..].find("</form>").unwrap() + i;
    &html[i..end]
}

const CAFE: &str = "/rapporter/maalopfyldelse?aktivitet=act-lektiecafe";
const THEORY: &str = "/administration/forandringsteori/act-lektiecafe";

#[tokio::test(flavor = "multi_thread")]
async fn a_change_theory_is_edited_reordered_and_retired_from_the_report_page() {
    for backend in Backend::all() {
        theory_on(backend).await;
    }
}

async fn theory_on(backend: Backend) {
    let r = relay(backend).await;
    let b = Browser::login(&r, "central").await;
    let page = b.text(CAFE).await;
    assert!(page.contains("id=\"forandringsteori\""), "{page}");
    let long = goal_id(&page, "Bedre skolegang");
    let goal = format!("{THEORY}/maal/{long}");
    let today = value_of(&page, "til");

    // Bad input: a Danish message naming the field, nothing changed.
    let good = [
        ("tekst", "Bedre skolegang for alle"),
        ("niveau", "long-term"),
        ("trin", "4"),
    ];
    let mut empty = good;
    empty[0] = ("tekst", " ");
    refused(&b, &goal, &empty, "«Tekst» skal udfyldes").await;
    let mut step = good;
    step[2] = ("trin", "12");
    refused(&b, &goal, &step, "«Trin»").await;
    let mut level = good;
    level[1] = ("niveau", "evig");
    refused(&b, &goal, &level, "«Niveau»").await;
    refused(
        &b,
        &goal,
        &[good[0], good[1], good[2], ("foerer", "g-findes-ikke")],
        "«Fører til»",
    )
    .await;
    // A goal cannot lead back to a goal at an earlier level: the core's rule, named.
    let short = goal_id(&page, "Flere børn laver lektier");
    refused(
        &b,
        &goal,
        &[good[0], good[1], good[2], ("foerer", &short)],
        "Feltet «Fører til» blev afvist",
    )
    .await;
    assert!(!b.text(CAFE).await.contains("Bedre skolegang for alle"));
    // An unknown goal is not found, never created.
    let resp = b
        .post(&format!("{THEORY}/maal/g-findes-ikke"), &b.base, &good)
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // Saved and moved: each says what happened.
    let to = location(&b.post(&goal, &b.base, &good).await);
    assert!(to.contains("besked=maal-gemt"), "{to}");
    let page = b.text(&to).await;
    assert!(
        page.contains("Målet «Bedre skolegang for alle» er gemt."),
        "{page}"
    );
    let to = location(
        &b.post(&format!("{goal}/flyt"), &b.base, &[("trin", "5")])
            .await,
    );
    let page = b.text(&to).await;
    assert!(
        page.contains("Målet «Bedre skolegang for alle» er flyttet til trin 5."),
        "{page}"
    );
    refused(&b, &format!("{goal}/flyt"), &[("trin", "0")], "«Trin»").await;

    // Retiring asks first; then it leaves the report form of a period from today, stays in
    // the report of the earlier period, and can be undone.
    let ask = b.text(&format!("{goal}/udgaa")).await;
    assert!(
        ask.contains("Tag målet «Bedre skolegang for alle» ud af forandringsteorien?")
            && ask.contains("Fortryd"),
        "{ask}"
    );
    let to = location(&b.post(&format!("{goal}/udgaa"), &b.base, &[]).await);
    let page = b.text(&to).await;
    assert!(
        page.contains("Målet «Bedre skolegang for alle» er taget ud af forandringsteorien fra")
            && page.contains("Fortryd (gendan)"),
        "{page}"
    );
    let now = b.text(&format!("{CAFE}&fra={today}&til={today}")).await;
    assert!(
        !report_form(&now).contains(&format!("status-{long}")),
        "not offered for a new report"
    );
    assert!(
        !now.contains("Bedre skolegang for alle (udgået"),
        "not in this period's table"
    );
    let earlier = b.text(&format!("{CAFE}&fra=2020-01-01&til={today}")).await;
    // A period that is not a date names its field, as every form's dates do.
    let bad = b.get(&format!("{CAFE}&fra=1.1.2020&til={today}")).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let says = bad.text().await.unwrap();
    assert!(
        says.contains("«Fra» skal være en dato (åååå-mm-dd)."),
        "{says}"
    );
    assert!(
        report_form(&earlier).contains(&format!("status-{long}")),
        "{}",
        report_form(&earlier)
    );
    assert!(
        earlier.contains("Bedre skolegang for alle (udgået fra"),
        "in the report of the period it was live in"
    );
    refused_with(
        &b,
        StatusCode::BAD_REQUEST,
        &goal,
        &good,
        "Feltet «Mål» blev afvist",
    )
    .await;
    let to = location(&b.post(&format!("{goal}/gendan"), &b.base, &[]).await);
    let page = b.text(&to).await;
    assert!(
        page.contains("Målet «Bedre skolegang for alle» er gendannet."),
        "{page}"
    );
    let now = b.text(&format!("{CAFE}&fra={today}&til={today}")).await;
    assert!(report_form(&now).contains(&format!("status-{long}")));

    // An indicator: edited (bad number named), retired (gone from the measurement picker,
    // a measurement of a later period refused), restored.
    let page = b.text(CAFE).await;
    let hours = first_indicator(&page);
    let ind = format!("{THEORY}/indikatorer/{hours}");
    let ind_good = [
        ("navn", "Frivillige timer i alt"),
        ("udgangspunkt", "120"),
        ("maalvaerdi", "210,5"),
        ("hyppighed", "halvår"),
    ];
    let mut bad_target = ind_good;
    bad_target[2] = ("maalvaerdi", "mange");
    refused(&b, &ind, &bad_target, "«Målværdi»").await;
    let to = location(&b.post(&ind, &b.base, &ind_good).await);
    let page = b.text(&to).await;
    assert!(
        page.contains("Indikatoren «Frivillige timer i alt» er gemt."),
        "{page}"
    );
    assert!(page.contains("210,5"), "{page}");
    assert!(picker(&page, "indikator").contains("Frivillige timer i alt"));
    let ask = b.text(&format!("{ind}/udgaa")).await;
    assert!(
        ask.contains("Tag indikatoren «Frivillige timer i alt» ud"),
        "{ask}"
    );
    let to = location(&b.post(&format!("{ind}/udgaa"), &b.base, &[]).await);
    let page = b.text(&to).await;
    assert!(page.contains("Indikatoren «Frivillige timer i alt» er taget ud"));
    assert!(!picker(&page, "indikator").contains("Frivillige timer i alt"));
    refused(
        &b,
        "/rapporter/maaling",
        &[
            ("aktivitet", "act-lektiecafe"),
            ("indikator", &hours),
            ("fra", &today),
            ("til", &today),
            ("vaerdi", "12"),
        ],
        "Feltet «Indikator» blev afvist",
    )
    .await;
    let to = location(&b.post(&format!("{ind}/gendan"), &b.base, &[]).await);
    assert!(b.text(&to).await.contains("er gendannet"));
    let resp = b
        .post(
            "/rapporter/maaling",
            &b.base,
            &[
                ("aktivitet", "act-lektiecafe"),
                ("indikator", &hours),
                ("fra", &today),
                ("til", &today),
                ("vaerdi", "12"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
}

/// A query parameter of a redirect.
fn param(location: &str, name: &str) -> String {
    let q = location.split(['?', '#']).nth(1).unwrap();
    q.split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {location}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_off_sessions_are_created_changed_and_cancelled_from_the_activity_page() {
    for backend in Backend::all() {
        sessions_on(backend).await;
    }
}

async fn sessions_on(backend: Backend) {
    let r = relay(backend).await;
    let b = Browser::login(&r, "central").await;
    // Street outreach has no register yet: no phone has made one.
    let page = b.text("/aktiviteter/act-gadeplan").await;
    assert!(page.contains("Ingen enkeltstående mødegange."), "{page}");
    assert!(!page.contains("<h2>Gange "), "no register yet");
    let today = value_of(&page, "dato");
    let create = "/aktiviteter/act-gadeplan/moeder";
    let good = [
        ("dato", today.as_str()),
        ("start", "17:00"),
        ("slut", "20:00"),
        ("titel", "Sommerfest"),
    ];
    let mut date = good;
    date[0] = ("dato", "i morgen");
    refused(&b, create, &date, "«Dato» skal være en dato").await;
    let mut end = good;
    end[2] = ("slut", "16:00");
    refused(&b, create, &end, "«Til kl.» skal ligge efter «Fra kl.»").await;
    refused(
        &b,
        create,
        &[good[0], good[1], good[2], ("moedested", "v-findes-ikke")],
        "«Mødested»",
    )
    .await;
    let resp = b
        .post("/aktiviteter/act-findes-ikke/moeder", &b.base, &good)
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(
        !b.text("/aktiviteter/act-gadeplan")
            .await
            .contains("Sommerfest")
    );

    // Created, with the term's register.
    let to = location(&b.post(create, &b.base, &good).await);
    assert!(to.contains("besked=moede-oprettet"), "{to}");
    let (doc, session) = (param(&to, "register"), param(&to, "moede"));
    let page = b.text(&to).await;
    assert!(
        page.contains("Mødegangen «Sommerfest» ") && page.contains("kl. 17:00–20:00 er oprettet."),
        "{page}"
    );
    assert!(page.contains("<h2>Gange "), "the register exists now");
    let base = format!("/registre/{doc}/moeder/{session}");
    assert!(b.get(&base).await.status().is_success());
    // A second one in the same term goes into the same register.
    let to = location(
        &b.post(
            create,
            &b.base,
            &[
                good[0],
                ("start", "10:00"),
                ("slut", "12:00"),
                ("titel", "Loppemarked"),
            ],
        )
        .await,
    );
    assert_eq!(param(&to, "register"), doc);

    // Changed: a date in another term is refused with the reason; a good change says so.
    refused(
        &b,
        &format!("{base}/aendr"),
        &[("dato", "2040-01-10"), good[1], good[2], good[3]],
        "«Dato» skal ligge i samme halvår",
    )
    .await;
    let to = location(
        &b.post(
            &format!("{base}/aendr"),
            &b.base,
            &[
                good[0],
                ("start", "18:00"),
                ("slut", "21:00"),
                ("titel", "Sommerfest i gården"),
            ],
        )
        .await,
    );
    let page = b.text(&to).await;
    assert!(
        page.contains("«Sommerfest i gården» ") && page.contains("kl. 18:00–21:00 er ændret."),
        "{page}"
    );

    // Cancelling asks first, can be undone, and a cancelled session is not changed.
    let ask = b.text(&format!("{base}/aflys")).await;
    assert!(
        ask.contains("Aflys mødegangen «Sommerfest i gården»"),
        "{ask}"
    );
    let to = location(&b.post(&format!("{base}/aflys"), &b.base, &[]).await);
    let page = b.text(&to).await;
    assert!(
        page.contains("er aflyst.") && page.contains("Fortryd (hold den alligevel)"),
        "{page}"
    );
    refused(
        &b,
        &format!("{base}/aendr"),
        &good,
        "Feltet «Mødegang» blev afvist",
    )
    .await;
    let to = location(&b.post(&format!("{base}/genoptag"), &b.base, &[]).await);
    assert!(b.text(&to).await.contains("holdes igen."));
    let resp = b
        .post(
            &format!("/registre/{doc}/moeder/s-findes-ikke/aendr"),
            &b.base,
            &good,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_programmes_board_is_edited_on_its_page_and_shown_under_boards() {
    for backend in Backend::all() {
        board_on(backend).await;
    }
}

async fn board_on(backend: Backend) {
    let r = relay(backend).await;
    let b = Browser::login(&r, "central").await;
    let path = "/administration/programmer/p-helhedsplan/bestyrelse";
    let form = b.text("/administration/programmer/p-helhedsplan").await;
    assert!(form.contains("id=\"bestyrelse\""), "{form}");
    // The form's current seats, then two new ones: the municipality chairs.
    let seats = form.matches("name=\"id-").count();
    let (k, bo) = (format!("org-{seats}"), format!("org-{}", seats + 1));
    let (fk, fbo) = (
        format!("funktion-{seats}"),
        format!("funktion-{}", seats + 1),
    );
    let mut good: Vec<(String, String)> = vec![("type".into(), "bystrategisk".into())];
    for i in 0..seats {
        good.push((format!("id-{i}"), hidden_value(&form, &format!("id-{i}"))));
        good.push((format!("org-{i}"), String::new()));
    }
    good.extend([
        (k.clone(), "o-vestby-kommune".to_owned()),
        (fk.clone(), "Direktør, Børn og Unge".to_owned()),
        (bo.clone(), "o-vesthus".to_owned()),
        (fbo.clone(), "Direktør".to_owned()),
        ("formand".to_owned(), seats.to_string()),
    ]);
    let as_ref = |v: &[(String, String)]| -> Vec<(String, String)> { v.to_vec() };
    let post = |v: Vec<(String, String)>| {
        let b = &b;
        async move {
            let f: Vec<(&str, &str)> = v.iter().map(|(a, c)| (a.as_str(), c.as_str())).collect();
            b.post(path, &b.base, &f).await
        }
    };
    // Bad input names the field and changes nothing.
    let mut no_function = as_ref(&good);
    no_function.retain(|(n, _)| n != &fbo);
    let resp = post(no_function).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("«Funktion» skal udfyldes for")
    );
    let mut bad_type = as_ref(&good);
    bad_type[0].1 = "kongelig".into();
    let resp = post(bad_type).await;
    assert!(resp.text().await.unwrap().contains("«Bestyrelsestype»"));
    let mut unknown = as_ref(&good);
    unknown.push((k.clone(), "o-findes-ikke".into()));
    unknown.retain(|(n, v)| !(n == &k && v == "o-vestby-kommune"));
    let resp = post(unknown).await;
    assert!(resp.text().await.unwrap().contains("«Organisation»"));
    assert!(
        !b.text("/bestyrelser")
            .await
            .contains("Direktør, Børn og Unge")
    );

    let to = location(&post(as_ref(&good)).await);
    let page = b.text(&to).await;
    assert!(page.contains("Bestyrelsen er gemt."), "{page}");
    let boards = b.text("/bestyrelser").await;
    assert!(
        boards.contains("Bystrategisk bestyrelse")
            && boards.contains("Direktør, Børn og Unge")
            && boards.contains("formand"),
        "{boards}"
    );
    // Saved again with the seats' ids: the same seats, nothing doubled.
    let form = b.text("/administration/programmer/p-helhedsplan").await;
    assert_eq!(form.matches("name=\"id-").count(), 2);
}

/// The value of the hidden input `name`.
fn hidden_value(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let i = html.find(&needle).unwrap() + needle.len();
    html[i..].split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_form_naming_an_archived_record_is_refused() {
    for backend in Backend::all() {
        stale_on(backend).await;
    }
}

async fn stale_on(backend: Backend) {
    let r = relay(backend).await;
    let b = Browser::login(&r, "central").await;
    // A page loaded before the area was archived still offers it.
    location(
        &b.post("/administration/omraader/a-engtoften/arkiver", &b.base, &[])
            .await,
    );
    refused(
        &b,
        "/administration/programmer",
        &[
            ("navn", "Helhedsplan Nord"),
            ("fra", "2027-01-01"),
            ("til", "2030-12-31"),
            ("taksonomi", "lbf-2019-2026"),
            ("omraade", "a-engtoften"),
        ],
        "«Boligområder»: området «Engtoften» er arkiveret",
    )
    .await;
    location(
        &b.post(
            "/administration/aktiviteter/act-gadeplan/arkiver",
            &b.base,
            &[],
        )
        .await,
    );
    refused(
        &b,
        "/administration/forandringsteori",
        &[
            ("aktivitet", "act-gadeplan"),
            ("led", "udfordring"),
            ("tekst", "Utryghed om aftenen"),
        ],
        "«Aktivitet»: aktiviteten «Gadeplansarbejde i Vestparken» er arkiveret",
    )
    .await;
    refused(
        &b,
        "/aktiviteter/act-gadeplan/moeder",
        &[
            ("dato", "2026-12-20"),
            ("start", "17:00"),
            ("slut", "19:00"),
        ],
        "«Aktivitet»: aktiviteten",
    )
    .await;
    location(
        &b.post(
            "/administration/programmer/p-helhedsplan/arkiver",
            &b.base,
            &[],
        )
        .await,
    );
    let resp = b
        .post(
            "/administration/aktiviteter",
            &b.base,
            &[
                ("navn", "Fodbold"),
                ("program", "p-helhedsplan"),
                ("omraade", "a-vestparken"),
                ("type", "lbf-2019-2026|BU.gadeplansarbejde"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let text = resp.text().await.unwrap();
    assert!(text.contains("«Program»: programmet"), "{text}");
}
