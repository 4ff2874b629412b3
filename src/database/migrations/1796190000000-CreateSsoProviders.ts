import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sign-in through external OpenID providers (issue 9 §4): runtime providers (secret encrypted), sign-ins
 * and upstream sign-outs in flight, which browser sessions came through a provider, and the attributes
 * custom claims give an actor.
 */
export class CreateSsoProviders1796190000000 implements MigrationInterface {
  name = 'CreateSsoProviders1796190000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "sso_providers" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "display_name" text NOT NULL, "authority" text NOT NULL, "client_id" text NOT NULL, "client_secret_enc" text, "scopes" text array NOT NULL, "claim_email" text NOT NULL, "claim_first_name" text NOT NULL, "claim_last_name" text, "custom_claims" jsonb NOT NULL DEFAULT \'[]\', "forward_params" text array NOT NULL DEFAULT \'{}\', "enabled" boolean NOT NULL DEFAULT true, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "uq_sso_providers_name" UNIQUE ("name"), CONSTRAINT "pk_sso_providers" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "sso_pending" ("key_sha256" text NOT NULL, "kind" text NOT NULL, "provider_id" text NOT NULL, "state" text, "nonce" text, "code_verifier_enc" text, "return_to" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "pk_sso_pending" PRIMARY KEY ("key_sha256"))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_sso_pending_expires_at" ON "sso_pending" ("expires_at") ',
    );
    await queryRunner.query(
      'CREATE TABLE "sso_sessions" ("browser_session_id" uuid NOT NULL, "provider_id" text NOT NULL, "id_token_enc" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_sso_sessions" PRIMARY KEY ("browser_session_id"))',
    );
    await queryRunner.query(
      'ALTER TABLE "sso_sessions" ADD CONSTRAINT "fk_sso_sessions_session" FOREIGN KEY ("browser_session_id") REFERENCES "browser_sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'CREATE TABLE "actor_attributes" ("actor_id" uuid NOT NULL, "attributes" jsonb NOT NULL DEFAULT \'{}\', "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_actor_attributes" PRIMARY KEY ("actor_id"))',
    );
    await queryRunner.query(
      'ALTER TABLE "actor_attributes" ADD CONSTRAINT "fk_actor_attributes_actor" FOREIGN KEY ("actor_id") REFERENCES "actors"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "actor_attributes" DROP CONSTRAINT "fk_actor_attributes_actor"',
    );
    await queryRunner.query('DROP TABLE "actor_attributes"');
    await queryRunner.query('ALTER TABLE "sso_sessions" DROP CONSTRAINT "fk_sso_sessions_session"');
    await queryRunner.query('DROP TABLE "sso_sessions"');
    await queryRunner.query('DROP INDEX "public"."idx_sso_pending_expires_at"');
    await queryRunner.query('DROP TABLE "sso_pending"');
    await queryRunner.query('DROP TABLE "sso_providers"');
  }
}
