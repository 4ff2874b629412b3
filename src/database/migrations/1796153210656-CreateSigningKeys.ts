import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Bridgekeeper's own token signing keys: private halves encrypted, at most one ACTIVE. */
export class CreateSigningKeys1796153210656 implements MigrationInterface {
  name = 'CreateSigningKeys1796153210656';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "signing_keys" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "kid" text NOT NULL, "alg" text NOT NULL, "public_jwk" jsonb NOT NULL, "private_key_encrypted" text NOT NULL, "status" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "retired_at" TIMESTAMP WITH TIME ZONE, "publish_until" TIMESTAMP WITH TIME ZONE, CONSTRAINT "uq_signing_keys_kid" UNIQUE ("kid"), CONSTRAINT "ck_signing_keys_status" CHECK ("status" IN (\'ACTIVE\', \'RETIRED\')), CONSTRAINT "ck_signing_keys_alg" CHECK ("alg" IN (\'ES256\', \'RS256\')), CONSTRAINT "pk_signing_keys" PRIMARY KEY ("id"))',
    );
    // At most one ACTIVE key, whatever races between nodes.
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_signing_keys_active" ON "signing_keys" ("status") WHERE "status" = \'ACTIVE\'',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."uq_signing_keys_active"');
    await queryRunner.query('DROP TABLE "signing_keys"');
  }
}
