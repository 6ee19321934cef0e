"""Plumbing every app borrows: periods, bilingual text, number formatting, exporting, the API's
shared pieces, the FilterSet base and the scoped view decorator. It imports no other app of
the project, so every app may import it."""
