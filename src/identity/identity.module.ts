import { Module } from '@nestjs/common';
import { ActorsModule } from 'src/actors/actors.module';
import { AuthGuard } from 'src/identity/auth.guard';
import { IdentityResolver } from 'src/identity/identity.resolver';
import { IdentityService } from 'src/identity/identity.service';
import { MembershipsModule } from 'src/memberships/memberships.module';
import { TokenValidationModule } from 'src/token-validation/token-validation.module';

@Module({
  exports: [AuthGuard, IdentityService],
  imports: [ActorsModule, MembershipsModule, TokenValidationModule],
  providers: [AuthGuard, IdentityResolver, IdentityService],
})
export class IdentityModule {}
