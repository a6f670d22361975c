-- A listing's specification (see cars::model::specs). Every part may be unknown: listings
-- from before this migration, and sellers who leave a part out. Choices are stored by their
-- stable snake_case ids, the battery in watt-hours, the first registration as 'YYYY-MM',
-- and the equipment as one number with a bit per catalogue item.
ALTER TABLE cars ADD COLUMN body_type TEXT;
ALTER TABLE cars ADD COLUMN fuel TEXT;
ALTER TABLE cars ADD COLUMN transmission TEXT;
ALTER TABLE cars ADD COLUMN drive TEXT;
ALTER TABLE cars ADD COLUMN colour TEXT;
ALTER TABLE cars ADD COLUMN power_kw INTEGER;
ALTER TABLE cars ADD COLUMN engine_cc INTEGER;
ALTER TABLE cars ADD COLUMN battery_wh INTEGER;
ALTER TABLE cars ADD COLUMN doors INTEGER;
ALTER TABLE cars ADD COLUMN seats INTEGER;
ALTER TABLE cars ADD COLUMN previous_owners INTEGER;
ALTER TABLE cars ADD COLUMN first_registration TEXT;
ALTER TABLE cars ADD COLUMN equipment BIGINT NOT NULL DEFAULT 0;
