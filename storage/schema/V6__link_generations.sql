-- Each link of a member gets a new generation; a refreshed token is saved only if the member
-- is still linked under the generation it was loaded with, so a sort that ends after /unlink
-- or after a relink cannot bring an old token back.
ALTER TABLE users ADD COLUMN link_generation INTEGER NOT NULL DEFAULT 1;
