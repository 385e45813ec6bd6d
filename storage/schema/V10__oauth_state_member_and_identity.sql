-- The /link confirmation page names the Discord member a link is for without asking Discord:
-- /link keeps their display name and username with the state.
ALTER TABLE oauth_states ADD COLUMN member_display_name TEXT;
ALTER TABLE oauth_states ADD COLUMN member_username TEXT;
-- When the operator configures Discord OAuth2, the browser that confirmed proves it is the
-- member's Discord account before Spotify; when it did.
ALTER TABLE oauth_states ADD COLUMN identity_verified_at REAL;
