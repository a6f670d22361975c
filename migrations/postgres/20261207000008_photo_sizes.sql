-- Each photo's shape, known once its sizes (320/640/1280 pixels wide, see media::renditions)
-- are made: at upload for new photos. NULL: not made yet (photos stored before sizes
-- existed; the server's background task makes them); 0: the photo could not be read.
ALTER TABLE car_photos ADD COLUMN width INTEGER;
ALTER TABLE car_photos ADD COLUMN height INTEGER;
CREATE INDEX car_photos_unsized ON car_photos (id) WHERE width IS NULL;
