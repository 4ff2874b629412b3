import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bridgekeeper as an OpenID provider for people in browsers (issue 9 §2): clients' redirect and
 * post-logout redirect URIs and public clients (`none`), the browser session a grant was made in, and
 * authorization codes (hashed, single use, redeemable on any node).
 */
export class AddAuthorizationCodeFlow1796175000000 implements MigrationInterface {
  name = 'AddAuthorizationCodeFlow1796175000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "oauth_clients" ADD "redirect_uris" text array NOT NULL DEFAULT \'{}\'',
    );
    await queryRunner.query(
      'ALTER TABLE "oauth_clients" ADD "post_logout_redirect_uris" text array NOT NULL DEFAULT \'{}\'',
    );
    await queryRunner.query(
      'ALTER TABLE "oauth_clients" DROP CONSTRAINT "ck_oauth_clients_token_endpoint_auth_method"',
    );
    await queryRunner.query(
      "ALTER TABLE \"oauth_clients\" ADD CONSTRAINT \"ck_oauth_clients_token_endpoint_auth_method\" CHECK (\"token_endpoint_auth_method\" IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'))",
    );
    await queryRunner.query('ALTER TABLE "oauth_grants" ADD "browser_session_id" text');
    await queryRunner.query(
      'CREATE INDEX "idx_oauth_grants_browser_session" ON "oauth_grants" ("browser_session_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "oauth_authorization_codes" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "code_hash" text NOT NULL, "client_id" text NOT NULL, "actor_id" uuid NOT NULL, "redirect_uri" text NOT NULL, "code_challenge" text NOT NULL, "scope" text array NOT NULL DEFAULT \'{}\', "nonce" text, "browser_session_id" text NOT NULL, "auth_time" bigint NOT NULL, "amr" text array NOT NULL DEFAULT \'{}\', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, "grant_id" uuid, CONSTRAINT "uq_oauth_authorization_codes_hash" UNIQUE ("code_hash"), CONSTRAINT "pk_oauth_authorization_codes" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_oauth_authorization_codes_expires_at" ON "oauth_authorization_codes" ("expires_at") ',
    );
    await queryRunner.query(
      'ALTER TABLE "oauth_authorization_codes" ADD CONSTRAINT "fk_oauth_authorization_codes_client" FOREIGN KEY ("client_id") REFERENCES "oauth_clients"("client_id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "oauth_authorization_codes" ADD CONSTRAINT "fk_oauth_authorization_codes_actor" FOREIGN KEY ("actor_id") REFERENCES "actors"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "oauth_authorization_codes" ADD CONSTRAINT "fk_oauth_authorization_codes_grant" FOREIGN KEY ("grant_id") REFERENCES "oauth_grants"("id") ON DELETE SET NULL ON UPDATE NO ACTION',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "oauth_authorization_codes" DROP CONSTRAINT "fk_oauth_authorization_codes_grant"',
    );
    await queryRunner.query(
      'ALTER TABLE "oauth_authorization_codes" DROP CONSTRAINT "fk_oauth_authorization_codes_actor"',
    );
    await queryRunner.query(
      'ALTER TABLE "oauth_authorization_codes" DROP CONSTRAINT "fk_oauth_authorization_codes_client"',
    );
    await queryRunner.query('DROP INDEX "public"."idx_oauth_authorization_codes_expires_at"');
    await queryRunner.query('DROP TABLE "oauth_authorization_codes"');
    await queryRunner.query('DROP INDEX "public"."idx_oauth_grants_browser_session"');
    await queryRunner.query('ALTER TABLE "oauth_grants" DROP COLUMN "browser_session_id"');
    await queryRunner.query(
      'DELETE FROM "oauth_clients" WHERE "token_endpoint_auth_method" = \'none\'',
    );
    await queryRunner.query(
      'ALTER TABLE "oauth_clients" DROP CONSTRAINT "ck_oauth_clients_token_endpoint_auth_method"',
    );
    await queryRunner.query(
      'ALTER TABLE "oauth_clients" ADD CONSTRAINT "ck_oauth_clients_token_endpoint_auth_method" CHECK ("token_endpoint_auth_method" IN (\'client_secret_basic\', \'client_secret_post\', \'private_key_jwt\'))',
    );
    await queryRunner.query('ALTER TABLE "oauth_clients" DROP COLUMN "post_logout_redirect_uris"');
    await queryRunner.query('ALTER TABLE "oauth_clients" DROP COLUMN "redirect_uris"');
  }
}
