-- Best match first: FTS5's rank (used by ORDER BY cars_fts.rank) is bm25 with the make
-- weighted over the model, and the model over the description.
INSERT INTO cars_fts (cars_fts, rank) VALUES ('rank', 'bm25(10.0, 5.0, 1.0)');
