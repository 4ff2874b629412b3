import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Bridgekeeper's own token signing keys: private halves encrypted, at most one ACTIVE and one NEXT. */
export class CreateSigningKeys1796153210656 implements MigrationInterface {
  name = 'CreateSigningKeys1796153210656';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "signing_keys" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "kid" text NOT NULL, "alg" text NOT NULL, "public_jwk" jsonb NOT NULL, "private_key_encrypted" text NOT NULL, "status" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "activated_at" TIMESTAMP WITH TIME ZONE, "retired_at" TIMESTAMP WITH TIME ZONE, "publish_until" TIMESTAMP WITH TIME ZONE, CONSTRAINT "uq_signing_keys_kid" UNIQUE ("kid"), CONSTRAINT "ck_signing_keys_status" CHECK ("status" IN (\'ACTIVE\', \'NEXT\', \'RETIRED\')), CONSTRAINT "ck_signing_keys_alg" CHECK ("alg" IN (\'ES256\', \'RS256\')), CONSTRAINT "pk_signing_keys" PRIMARY KEY ("id"))',
    );
    // At most one ACTIVE key and one NEXT key, whatever races between nodes.
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_signing_keys_active" ON "signing_keys" ("status") WHERE "status" = \'ACTIVE\'',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_signing_keys_next" ON "signing_keys" ("status") WHERE "status" = \'NEXT\'',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."uq_signing_keys_next"');
    await queryRunner.query('DROP INDEX "public"."uq_signing_keys_active"');
    await queryRunner.query('DROP TABLE "signing_keys"');
  }
}
