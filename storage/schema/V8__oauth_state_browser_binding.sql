-- A state can be bound to the browser that confirmed the link (a hash of a secret the
-- confirmation page gives that browser); a bound state then works only in that browser.
ALTER TABLE oauth_states ADD COLUMN browser_hash TEXT;
