import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Trusted issuers added at runtime through the admin API (issue 4 §4). */
export class CreateTrustedIssuers1796153345286 implements MigrationInterface {
  name = 'CreateTrustedIssuers1796153345286';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "trusted_issuers" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "iss" text NOT NULL, "jwks_url" text, "userinfo_url" text, "opaque" boolean NOT NULL DEFAULT false, "audiences" text array NOT NULL DEFAULT \'{}\', "audiences_required" boolean NOT NULL, "algorithms" text array NOT NULL, "clock_tolerance_seconds" integer NOT NULL, "max_token_age_seconds" integer, "provisioning" text NOT NULL, "fhir_base" text, "userinfo_credentials" boolean NOT NULL DEFAULT false, "email_matching" boolean NOT NULL DEFAULT false, "revision" integer NOT NULL DEFAULT \'1\', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "uq_trusted_issuers_iss" UNIQUE ("iss"), CONSTRAINT "uq_trusted_issuers_name" UNIQUE ("name"), CONSTRAINT "ck_trusted_issuers_endpoint" CHECK ("jwks_url" IS NOT NULL OR "userinfo_url" IS NOT NULL), CONSTRAINT "ck_trusted_issuers_provisioning" CHECK ("provisioning" IN (\'jit\', \'existing\')), CONSTRAINT "pk_trusted_issuers" PRIMARY KEY ("id"))',
    );
    // At most one issuer accepts opaque tokens, even when two nodes create one at the same moment.
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_trusted_issuers_opaque" ON "trusted_issuers" ("opaque") WHERE "opaque"',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."uq_trusted_issuers_opaque"');
    await queryRunner.query('DROP TABLE "trusted_issuers"');
  }
}
