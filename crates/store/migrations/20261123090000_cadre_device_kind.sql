-- What kind of device each enrolled device said it is when it joined:
-- 'desktop' (the app) or 'headless' (`tallymesh node run`). NULL when it
-- did not say (enrolled by an older version, or a kind this one does not
-- know). It decides nothing; windows show it.
ALTER TABLE cadre_devices ADD COLUMN kind TEXT CHECK (kind IN ('desktop', 'headless'));
