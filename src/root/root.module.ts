import { Module } from '@nestjs/common';
import { RootController } from 'src/root/root.controller';

/** The bare address (`GET /`): links to discovery, GraphQL, JWKS and health. */
@Module({ controllers: [RootController] })
export class RootModule {}
