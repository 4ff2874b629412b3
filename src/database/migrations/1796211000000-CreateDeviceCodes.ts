import type { MigrationInterface, QueryRunner } from 'typeorm';

/** RFC 8628 device authorizations (issue 11 §1): hashed device and user codes, single use. */
export class CreateDeviceCodes1796211000000 implements MigrationInterface {
  name = 'CreateDeviceCodes1796211000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "oauth_device_codes" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "device_code_hash" text NOT NULL, "user_code_hash" text NOT NULL, "client_id" text NOT NULL, "scope" text array NOT NULL DEFAULT \'{}\', "resource" text NOT NULL DEFAULT \'api\', "status" text NOT NULL DEFAULT \'pending\', "actor_id" uuid, "browser_session_id" text, "interval_seconds" integer NOT NULL, "last_polled_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "uq_oauth_device_codes_device_code" UNIQUE ("device_code_hash"), CONSTRAINT "uq_oauth_device_codes_user_code" UNIQUE ("user_code_hash"), CONSTRAINT "ck_oauth_device_codes_status" CHECK ("status" IN (\'pending\', \'approved\', \'denied\', \'used\')), CONSTRAINT "ck_oauth_device_codes_resource" CHECK ("resource" IN (\'api\', \'mcp\')), CONSTRAINT "pk_oauth_device_codes" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_oauth_device_codes_expires_at" ON "oauth_device_codes" ("expires_at") ',
    );
    await queryRunner.query(
      'ALTER TABLE "oauth_device_codes" ADD CONSTRAINT "fk_oauth_device_codes_client" FOREIGN KEY ("client_id") REFERENCES "oauth_clients"("client_id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "oauth_device_codes"');
  }
}
