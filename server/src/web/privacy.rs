//! "Om databeskyttelse": the Danish summary of `docs/privacy.md` for everyone — staff,
//! volunteers, residents and guardians. It needs no sign-in and shows no tenant's data, so
//! it can be linked from the sign-in page and from a tenant's privacy notice.

use axum::response::{IntoResponse, Response};
use maud::html;

use super::bare;

/// The page's path.
pub const PATH: &str = "/databeskyttelse";

/// The page.
pub async fn show() -> Response {
    bare(
        "Om databeskyttelse",
        html! {
            header class="top" {
                a class="logo" href="/" { "Nabo" }
            }
            main id="indhold" class="databeskyttelse" {
                h1 { "Om databeskyttelse i Nabo" }
                p { "Nabo bruges i det boligsociale arbejde til at registrere fremmøde i aktiviteter, opsøgende arbejde og frivilliges vagter – og til at lave rapporter til bestyrelser og fonde. Her kan du læse, hvilke oplysninger Nabo gemmer, hvem der kan se dem, og hvordan de slettes. Den organisation, der bruger Nabo, er dataansvarlig og kan svare på spørgsmål om netop dine oplysninger." }

                h2 { "Så lidt som muligt" }
                ul {
                    li { "Nabo har intet felt til CPR-numre." }
                    li { "Deltagere har et tilfældigt id og en aldersgruppe – ikke en fødselsdato." }
                    li { "Opsøgende kontakter tælles som udgangspunkt anonymt, og emner registreres som faste koder, ikke som fritekst. Fritekstnoter er slået fra, medmindre organisationen slår dem til." }
                    li { "Et navn, et kaldenavn eller en note krypteres med en nøgle, der kun hører til den ene person. Uden nøglen kan navnet ikke læses – heller ikke i sikkerhedskopier af databasen." }
                }

                h2 { "Hvem kan se hvad" }
                table {
                    thead { tr { th { "Rolle" } th { "Kan se" } } }
                    tbody {
                        tr { td { "Centralt personale" } td { "Alle organisationens registreringer, til gennemgang og rapporter." } }
                        tr { td { "Lokale medarbejdere" } td { "Aktiviteter og fremmøde i deres egne aktiviteter og områder, og deres egne opsøgende logs." } }
                        tr { td { "Frivillige" } td { "Fremmøde og vagter i de aktiviteter, de hjælper ved." } }
                        tr { td { "Bestyrelsen" } td { "Kun samlede tal. Små tal skjules, så ingen kan regne sig frem til enkeltpersoner." } }
                    }
                }
                p { "Serveren kontrollerer hver ændring fra en telefon, før den gemmes, og afviser det, som afsenderen ikke må skrive." }

                h2 { "Sletning" }
                p { "Det centrale personale kan slette en person, fx når personen beder om det, når et samtykke trækkes tilbage, eller når formålet er opfyldt. Ved sletning:" }
                ul {
                    li { "destrueres personens nøgle, så navnet ikke længere kan læses nogen steder – heller ikke i historikken;" }
                    li { "sletter hver telefon nøglen, næste gang den synkroniserer, og melder tilbage, at det er sket;" }
                    li { "kan en telefon, der var uden net imens, ikke bringe navnet tilbage;" }
                    li { "bliver fremmøde og timer stående som anonyme tal, så rapporterne stadig passer." }
                }
                p { "Hver sletning logges med hvem, hvornår og hvorfor – uden navnet." }
                p { "Sikkerhedskopier, der er taget før en sletning, indeholder stadig den krypterede nøgle. Ved genindlæsning af en sådan kopi skal sletningerne gentages. Organisationen oplyser, hvor længe sikkerhedskopier gemmes." }

                h2 { "Samtykke og børn" }
                p { "For hver aktivitet står det, hvem der er dataansvarlig, hvad formålet er, og hvilket retsgrundlag der bruges. Bygger det på samtykke, gemmes hvem der gav det (personen selv eller en forælder eller værge), hvad det dækker, hvornår og hvordan – og hvornår det eventuelt blev trukket tilbage." }
                p { "Om frivillige, der arbejder med børn, gemmes kun, at der er indhentet en børneattest, og hvornår den skal fornyes – aldrig indholdet." }
                p { "Nabo er ikke en sagsmappe. Er der sendt en underretning om et barn, gemmes kun datoen og hvilken myndighed den gik til." }

                h2 { "Telefoner" }
                ul {
                    li { "Oplysningerne på telefonen er krypteret med en nøgle i telefonens egen nøgleboks." }
                    li { "En spærret telefon sletter alle Nabo-data, næste gang den har forbindelse." }
                    li { "Telefonen får kun de oplysninger, som brugerens rolle og aktiviteter kræver." }
                }

                h2 { "Opbevaring" }
                p { "Hver aktivitet har en opbevaringsklasse. Følsomme oplysninger slettes et år efter, at aktiviteten er slut, eller personen er stoppet. Dokumentation til fonde gemmes i fem år og gøres derefter anonym." }
                p { "Medarbejderes navn, stilling og kontaktoplysninger slettes (som standard) fem år efter, at de er stoppet, dvs. efter at deres login er lukket. Det, de har registreret, bliver stående uden navn. Derefter skrives medarbejderoversigten om uden ændringshistorik, så navnet heller ikke findes i den gemte historik på serveren eller på telefonerne. Kun sikkerhedskopier taget før sletningen har det, indtil de udløber." }

                h2 { "Dine rettigheder" }
                p { "Du har ret til at få indsigt i de oplysninger, der er om dig, og til at få dem rettet eller slettet. Kontakt den organisation, der står for aktiviteten, eller dens databeskyttelsesrådgiver. Organisationen skal svare inden for en måned." }
                p class="undertitel" { "Den fulde beskrivelse til databeskyttelsesrådgivere findes i Nabos dokumentation (docs/privacy.md)." }
            }
        },
    )
    .into_response()
}
