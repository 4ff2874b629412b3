/** The OIDC standard profile claims Bridgekeeper reads from tokens, stores on actors and answers in userinfo. */
export interface ProfileClaims {
  email?: string;
  email_verified?: boolean;
  name?: string;
  given_name?: string;
  family_name?: string;
  preferred_username?: string;
}
