import { Global, Module } from '@nestjs/common';
import { SecretsService } from 'src/secrets/secrets.service';

/** Encryption of secrets at rest, for every module that stores one (signing keys, client secrets). */
@Global()
@Module({ providers: [SecretsService], exports: [SecretsService] })
export class SecretsModule {}
