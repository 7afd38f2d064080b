"""Record forms and the edit controller: every change an analyst makes goes through here."""
