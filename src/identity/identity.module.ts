import { Module } from '@nestjs/common';
import { ActorsModule } from 'src/actors/actors.module';
import { AuthGuard } from 'src/identity/auth.guard';
import { ExplainResolver } from 'src/identity/explain.resolver';
import { ExplainService } from 'src/identity/explain.service';
import { IdentityResolver } from 'src/identity/identity.resolver';
import { IdentityService } from 'src/identity/identity.service';
import { MembershipsModule } from 'src/memberships/memberships.module';
import { TokenValidationModule } from 'src/token-validation/token-validation.module';

@Module({
  exports: [AuthGuard, IdentityService],
  imports: [ActorsModule, MembershipsModule, TokenValidationModule],
  providers: [AuthGuard, ExplainResolver, ExplainService, IdentityResolver, IdentityService],
})
export class IdentityModule {}
