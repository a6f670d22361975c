-- Full-text search over make, model and description (FTS5, accents folded), kept in
-- step with `cars` by the triggers below, so no code path can forget to update it.
CREATE VIRTUAL TABLE cars_fts USING fts5(
    make, model, description,
    content = 'cars', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO cars_fts (rowid, make, model, description) SELECT id, make, model, description FROM cars;

CREATE TRIGGER cars_fts_insert AFTER INSERT ON cars BEGIN
    INSERT INTO cars_fts (rowid, make, model, description) VALUES (new.id, new.make, new.model, new.description);
END;
CREATE TRIGGER cars_fts_delete AFTER DELETE ON cars BEGIN
    INSERT INTO cars_fts (cars_fts, rowid, make, model, description)
    VALUES ('delete', old.id, old.make, old.model, old.description);
END;
CREATE TRIGGER cars_fts_update AFTER UPDATE OF make, model, description ON cars BEGIN
    INSERT INTO cars_fts (cars_fts, rowid, make, model, description)
    VALUES ('delete', old.id, old.make, old.model, old.description);
    INSERT INTO cars_fts (rowid, make, model, description) VALUES (new.id, new.make, new.model, new.description);
END;
