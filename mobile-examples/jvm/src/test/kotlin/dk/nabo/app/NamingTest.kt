package dk.nabo.app

import dk.nabo.core.AttendanceMode
import dk.nabo.core.Mark
import dk.nabo.core.RollCallEntry
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * Issue 11 item 3: the phone shows whether a child may be named. The binding says per child
 * whether a basis or consent covers naming (`mayBeNamed`, tested in bindings/tests/phones/consent.rs);
 * the view-model turns that into the row the Android and iOS screens show.
 */
class NamingTest {
    private fun entry(label: String?, mayBeNamed: Boolean) =
        RollCallEntry("p-0000000000001234", label, "7-9", Mark.PRESENT, false, mayBeNamed)

    @Test
    fun `a named roll call says when a child may not be named`() {
        val consented = rowOf(entry("Zuleika", true), AttendanceMode.NAMED)
        assertEquals("Zuleika", consented.name)
        assertFalse(consented.nameWithheld)
        assertEquals("7–9 år", Tekster.rowCaption("7–9 år", consented.conflict, consented.nameWithheld))

        val counted = rowOf(entry(null, false), AttendanceMode.NAMED)
        assertTrue(counted.nameWithheld)
        assertEquals(Tekster.anonymous("7-9", "p-0000000000001234"), counted.name)
        assertEquals(
            "7–9 år · Må ikke navngives (intet samtykke)",
            Tekster.rowCaption("7–9 år", counted.conflict, counted.nameWithheld),
        )
        assertEquals(
            "7–9 år · Uenighed – afgøres ved gennemgang · Må ikke navngives (intet samtykke)",
            Tekster.rowCaption("7–9 år", true, true),
        )
    }

    @Test
    fun `a pseudonymous roll call shows pseudonyms without a naming warning`() {
        // Nobody is named in a pseudonymous roll call; the label is a pseudonym.
        val row = rowOf(entry("Stjernen", false), AttendanceMode.PSEUDONYMOUS)
        assertEquals("Stjernen", row.name)
        assertFalse(row.nameWithheld)
        assertEquals("7–9 år", Tekster.rowCaption("7–9 år", row.conflict, row.nameWithheld))
    }
}
